#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds, then runs
# PruneLab on a built-in model and the built-in data (Fashion-MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/deps.sh
bash scripts/build.sh
bash scripts/run_demo.sh
