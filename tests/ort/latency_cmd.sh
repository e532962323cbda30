#!/bin/sh
# A --latency-cmd for tests and benchmarks: ONNX Runtime (CPU, through node) times an
# ONNX file and prints one figure, which prunelab-cli reads.
#
#   prunelab-cli prune ... --target-latency 50% --latency-cmd 'tests/ort/latency_cmd.sh {onnx}'
#
# Environment: STAT (min: the fastest of the timed runs, printed "min X ms"; q1: their lower
# quartile, "q1 X ms"; median: ort_run.js's "median_ms X"), THREADS (intra-op threads,
# default 1), ITERS (timed runs, default 41), WARMUP (default 3). The fastest run is the
# default because on a shared machine a run is only ever slowed by the others' work, never
# sped up: the median of a call moves with their load (the same model has measured 3x apart
# at load 10 on 2 cores), the fastest run much less. The model's batch is the file's own
# (PruneLab exports a static batch).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 MODEL.onnx" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
set -- node "$here/ort_run.js" time "$1" --batch 1 --threads "${THREADS:-1}" --iters "${ITERS:-41}" \
  --warmup "${WARMUP:-3}"
stat=${STAT:-min}
if [ "$stat" = median ]; then exec "$@"; fi
"$@" --json | /usr/bin/python3 -c '
import json, sys
s = sorted(json.loads(sys.stdin.read())["samples_ms"])
stat = sys.argv[1]
print("%s %.3f ms" % (stat, s[0] if stat == "min" else s[(len(s) - 1) // 4]))' "$stat"
