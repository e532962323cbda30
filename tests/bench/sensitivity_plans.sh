#!/usr/bin/env bash
# Issue 18 item 1: the sensitivity sweep of a trained classifier (every group x 5 ratios on
# 1000 validation images), then three plans at the same MACs target - sensitivity-guided
# (prune --from-sensitivity), global ranking (prune --target-macs) and uniform (one ratio
# for every group) - each evaluated right after the cut and after the same short fine-tune.
#
#   tests/bench/sensitivity_plans.sh MODEL.plm [OUT_DIR]
# Environment: CLI (build/app/prunelab-cli), DATA (fashion-mnist), CRITERION (l1),
# UNIFORM (0.3: the uniform plan's ratio; its MACs set the target of the other two),
# FT_EPOCHS (1), FT_LIMIT (20000), FT_LR (0.01), SEED (0).
set -euo pipefail
MODEL=$1
OUT=${2:-runs/sensitivity_plans}
CLI=${CLI:-build/app/prunelab-cli}
DATA=${DATA:-fashion-mnist}
CRITERION=${CRITERION:-l1}
UNIFORM=${UNIFORM:-0.3}
FT_EPOCHS=${FT_EPOCHS:-1}
FT_LIMIT=${FT_LIMIT:-20000}
FT_LR=${FT_LR:-0.01}
SEED=${SEED:-0}
PY=/usr/bin/python3
field() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
mkdir -p "$OUT"

start=$(date +%s)
$CLI sensitivity --model "$MODEL" --data "$DATA" --criterion "$CRITERION" --val-images 1000 \
  --out "$OUT/sensitivity.json" > "$OUT/heatmap.txt"
echo "sweep: $(($(date +%s) - start)) s"
cat "$OUT/heatmap.txt"

printf 'default: %s\n' "$UNIFORM" > "$OUT/uniform.yaml"
uniform=$($CLI prune --model "$MODEL" --criterion "$CRITERION" --ratios "$OUT/uniform.yaml" --out "$OUT/uniform.plm" --json)
target=$(echo "$uniform" | field macs_after)
$CLI prune --model "$MODEL" --criterion "$CRITERION" --target-macs "$target" --out "$OUT/global.plm" --json > /dev/null
$CLI prune --model "$MODEL" --from-sensitivity "$OUT/sensitivity.json" --target-macs "$target" \
  --out "$OUT/sensitivity.plm" --json > /dev/null

echo
echo "| plan ($CRITERION, target $target MACs) | MACs | params | top-1 after the cut | top-1 after ${FT_EPOCHS}-epoch fine-tune |"
echo "|---|---|---|---|---|"
for p in uniform global sensitivity; do
  info=$($CLI info --model "$OUT/$p.plm" --json)
  top1=$($CLI eval --model "$OUT/$p.plm" --data "$DATA" --json | field val_top1)
  rm -rf "$OUT/$p-ft"
  ft=$($CLI train --model "$OUT/$p.plm" --data "$DATA" --epochs "$FT_EPOCHS" --lr "$FT_LR" --warmup 0 \
    --train-limit "$FT_LIMIT" --seed "$SEED" --out "$OUT/$p-ft" --json | field val_top1)
  echo "| $p | $(echo "$info" | field macs) | $(echo "$info" | field params) | $top1 | $ft |"
done
