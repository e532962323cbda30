#!/usr/bin/env bash
# prune --target-latency with --latency-cmd: latency measured in ONNX Runtime (through node,
# tests/ort/latency_cmd.sh), the deploy target, instead of PruneLab's executor. RUNS times:
# a fresh latency table (per-layer timings by the executor, whole-model figures by ORT), then
# the search (every round: the unpruned model, then the candidate, each exported and timed by
# ORT). Per run: `uptime` before and after, the baseline and final ms from prune --json, and an
# independent check - the unpruned and the pruned model exported the deployment way and timed
# by the same command alternately CHECK rounds, the ratio of the medians of its figures against
# the target ratio. tests/ort/latency_cmd.sh's environment (STAT, ITERS) applies to both.
#
#   tests/bench/latency_cmd.sh [OUT_DIR]
# Environment: BUILD (build), MODEL (resnet18), TARGET (50%), RUNS (5), CHECK (3),
# CRITERION (l1), THREADS (ORT intra-op threads, 1).
set -euo pipefail
OUT=${1:-runs/latency_cmd}
BUILD=${BUILD:-build}
MODEL=${MODEL:-resnet18}
TARGET=${TARGET:-50%}
RUNS=${RUNS:-5}
CHECK=${CHECK:-3}
CRITERION=${CRITERION:-l1}
export THREADS=${THREADS:-1}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CLI=$BUILD/app/prunelab-cli
PY=/usr/bin/python3
LATCMD="$HERE/ort/latency_cmd.sh {onnx}"
mkdir -p "$OUT"
frac=$($PY -c "print(float('${TARGET%\%}')/100)")
load() { uptime | sed 's/.*load average: //'; }
ort_ms() { "$HERE/ort/latency_cmd.sh" "$1" | awk '{print $2}'; }  # the statistic the search reads

$CLI export --model "$MODEL" --format onnx --fold-bn --static-batch --out "$OUT/unpruned.onnx" > /dev/null
rows=()
for run in $(seq 1 "$RUNS"); do
  before=$(load)
  start=$(date +%s)
  $CLI latency-table --model "$MODEL" --latency-cmd "$LATCMD" --out "$OUT/table-$run.json" > "$OUT/table-$run.txt"
  $CLI prune --model "$MODEL" --criterion "$CRITERION" --target-latency "$TARGET" --latency-table "$OUT/table-$run.json" \
    --latency-cmd "$LATCMD" --out "$OUT/pruned-$run.plm" --json > "$OUT/prune-$run.json"
  seconds=$(($(date +%s) - start))
  after=$(load)
  $CLI export --model "$OUT/pruned-$run.plm" --format onnx --fold-bn --static-batch --out "$OUT/pruned-$run.onnx" > /dev/null
  check=()
  for c in $(seq 1 "$CHECK"); do check+=("$(ort_ms "$OUT/unpruned.onnx")" "$(ort_ms "$OUT/pruned-$run.onnx")"); done
  row=$($PY - "$OUT/prune-$run.json" "$frac" "$run" "$before" "$after" "$seconds" "${check[@]}" <<'PYEOF'
import json, statistics, sys
lat = json.load(open(sys.argv[1]))['latency']
frac, run, before, after, seconds = float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
check = [float(x) for x in sys.argv[7:]]
full, cut = statistics.median(check[0::2]), statistics.median(check[1::2])
err = lat['measured_ms'] / lat['target_ms'] - 1
ratio = cut / full
within = 'yes' if abs(err) <= 0.10 else 'NO'
print(f"| {run} | {before} | {after} | {len(lat['rounds'])} | {lat['before_ms']:.2f} | {lat['target_ms']:.2f} | "
      f"{lat['measured_ms']:.2f} ({100*err:+.1f} %) | {within} | {full:.2f} -> {cut:.2f}: {ratio:.3f} "
      f"({100*(ratio/frac-1):+.1f} %) | {seconds} |")
PYEOF
)
  echo "$row"
  rows+=("$row")
done
echo
echo "$MODEL, --target-latency $TARGET, --latency-cmd '$LATCMD' (ORT intra-op $THREADS)"
echo
echo "| run | load before (1/5/15 min) | load after | rounds | unpruned ms (chosen round) | target ms | final ms (vs target) | within 10 %? | check: ORT ms unpruned -> pruned, ratio (vs target ratio) | seconds (table + prune) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
