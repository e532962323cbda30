#!/usr/bin/env bash
# Configures and builds PruneLab into ./build (Release, Ninja, ccache, 2 jobs) and says
# how long the build took (the README's first-build figure comes from this line on a
# clean clone with CCACHE_DISABLE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"${PRUNELAB_JOBS:-2}"
end=$(date +%s)
echo "build: $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s (jobs ${PRUNELAB_JOBS:-2}, ccache $([ "${CCACHE_DISABLE:-0}" = 1 ] && echo off || echo on))"
