#!/usr/bin/env bash
# The main job on the embedded default, once built: a built-in model on the built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=./build/app/prunelab-cli
$CLI info --model resnet20 --in-channels 1 --input 1x28x28
