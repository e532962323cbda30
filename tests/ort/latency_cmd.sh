#!/bin/sh
# A --latency-cmd for tests and benchmarks: ONNX Runtime (CPU, through node) times an
# ONNX file and prints "median_ms X", which prunelab-cli reads.
#
#   prunelab-cli prune ... --target-latency 50% --latency-cmd 'tests/ort/latency_cmd.sh {onnx}'
#
# Environment: THREADS (intra-op threads, default 1), ITERS (timed runs, default 21),
# WARMUP (default 3). The model's batch is the file's own (PruneLab exports a static batch).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 MODEL.onnx" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/ort_run.js" time "$1" --batch 1 --threads "${THREADS:-1}" --iters "${ITERS:-21}" \
  --warmup "${WARMUP:-3}"
