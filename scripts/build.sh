#!/usr/bin/env bash
# Configures and builds PruneLab into ./build (Release, Ninja, ccache, 2 jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"${PRUNELAB_JOBS:-2}"
