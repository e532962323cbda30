#!/usr/bin/env bash
# Issue 18 item 4: prune --target-latency on ResNet-18 (224 px) and YOLOv5s (640 px), batch 1.
# For each model: the per-layer latency table (prunelab-cli latency-table), then a prune to
# TARGET (a percent of today's latency) that plans from the table and corrects by measuring,
# then the unpruned and pruned models timed side by side, interleaved (bench_latency, ROUNDS
# rounds) - the landing error is the interleaved ratio against the target ratio, which does
# not drift with the machine's load the way absolute milliseconds do.
#
#   tests/bench/latency_target.sh [OUT_DIR]
# Environment: BUILD (build), TARGET (50%), CRITERION (l1), ROUNDS (5), MODELS ("resnet18:3x224x224
# yolov5s:3x640x640"), THREADS (0: LibTorch's default).
set -euo pipefail
OUT=${1:-runs/latency_target}
BUILD=${BUILD:-build}
TARGET=${TARGET:-50%}
CRITERION=${CRITERION:-l1}
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-0}
MODELS=${MODELS:-"resnet18:3x224x224 yolov5s:3x640x640"}
CLI=$BUILD/app/prunelab-cli
BENCH=$BUILD/tests/bench/bench_latency
PY=/usr/bin/python3
mkdir -p "$OUT"
target_fraction=$($PY -c "print(float('${TARGET%\%}')/100)")
echo "load before: $(uptime)"
rows=()
for spec in $MODELS; do
  model=${spec%%:*}
  input=${spec#*:}
  start=$(date +%s)
  $CLI latency-table --model "$model" --input "$input" --threads "$THREADS" --out "$OUT/$model-table.json" \
    > "$OUT/$model-table.txt"
  table_s=$(($(date +%s) - start))
  start=$(date +%s)
  $CLI prune --model "$model" --input "$input" --threads "$THREADS" --criterion "$CRITERION" \
    --target-latency "$TARGET" --latency-table "$OUT/$model-table.json" --out "$OUT/$model-lat.plm" --json \
    > "$OUT/$model-prune.json"
  prune_s=$(($(date +%s) - start))
  $BENCH --input "$input" --batches 1 --iters 15 --rounds "$ROUNDS" --threads "$THREADS" "$model" "$OUT/$model-lat.plm" \
    > "$OUT/$model-bench.txt"
  row=$($PY - "$OUT/$model-prune.json" "$OUT/$model-bench.txt" "$target_fraction" "$model" "$table_s" "$prune_s" <<'PYEOF'
import json, sys
prune = json.load(open(sys.argv[1]))
lines = [l for l in open(sys.argv[2]) if l.startswith('| ') and not l.startswith('| model')]
ms = [float(l.split('|')[5]) for l in lines]
frac, model, table_s, prune_s = float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
lat = prune['latency']
ratio = ms[1] / ms[0]
rounds = len(lat['rounds'])
print(f"| {model} | {prune['macs_before']/1e9:.2f}G -> {prune['macs_after']/1e9:.2f}G | {lat['before_ms']:.1f} | "
      f"{lat['target_ms']:.1f} | {lat['rounds'][0]['predicted_ms']:.1f} / {lat['rounds'][0]['measured_ms']:.1f} | {rounds} | "
      f"{lat['measured_ms']:.1f} ({100*(lat['measured_ms']/lat['target_ms']-1):+.1f} %) | "
      f"{ms[0]:.1f} -> {ms[1]:.1f}: {ratio:.3f} vs {frac:.3f} ({100*(ratio/frac-1):+.1f} %) | {prune.get('round_to', 1)} | {table_s} + {prune_s} |")
PYEOF
)
  rows+=("$row")
done
echo "load after: $(uptime)"
echo
echo "| model | MACs | table: whole model ms | target ms | 1st plan: predicted / measured ms | rounds | final, measured by prune (vs target) | interleaved bench: ms before -> after: ratio vs target ratio (error) | round-to | seconds (table + prune) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
