#!/bin/sh
# A --latency-cmd for tests and benchmarks: ONNX Runtime (CPU, through node) times an
# ONNX file and prints one figure, which prunelab-cli reads.
#
#   prunelab-cli prune ... --target-latency 50% --latency-cmd 'tests/ort/latency_cmd.sh {onnx}'
#
# Environment: STAT (q1: the lower quartile of the timed runs, printed "q1 X ms"; median:
# ort_run.js's "median_ms X"), THREADS (intra-op threads, default 1), ITERS (timed runs,
# default 41), WARMUP (default 3). The lower quartile is the default because on a shared
# machine a run is only ever slowed by the others, never sped up: the median moves with
# their load from one call to the next, the lower quartile much less. The model's batch is
# the file's own (PruneLab exports a static batch).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 MODEL.onnx" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
set -- node "$here/ort_run.js" time "$1" --batch 1 --threads "${THREADS:-1}" --iters "${ITERS:-41}" \
  --warmup "${WARMUP:-3}"
if [ "${STAT:-q1}" = median ]; then exec "$@"; fi
"$@" --json | /usr/bin/python3 -c '
import json, sys
s = sorted(json.loads(sys.stdin.read())["samples_ms"])
print("q1 %.3f ms" % s[(len(s) - 1) // 4])'
