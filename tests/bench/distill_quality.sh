#!/usr/bin/env bash
# Distillation against plain fine-tuning (issue 18 item 5): the demo ResNet-20 is pruned
# by l1 to half its MACs, then fine-tuned with the same epochs, seed and data once
# without a teacher and once per KD setting with the unpruned model as teacher.
#
#   tests/bench/distill_quality.sh [OUT_DIR]
# Environment: CLI (default build/app/prunelab-cli), MODEL (resources/demo/classifier.plm),
# FT_EPOCHS (2), FT_LIMIT (20000), FT_LR (0.01), DATA (fashion-mnist),
# KD ("0.5:4 0.9:4 1:4", W:T pairs), THREADS (2).
set -euo pipefail
OUT=${1:-runs/distill_quality}
CLI=${CLI:-build/app/prunelab-cli}
MODEL=${MODEL:-resources/demo/classifier.plm}
DATA=${DATA:-fashion-mnist}
FT_EPOCHS=${FT_EPOCHS:-2}
FT_LIMIT=${FT_LIMIT:-20000}
FT_LR=${FT_LR:-0.01}
KD=${KD:-"0.5:4 0.9:4 1:4"}
THREADS=${THREADS:-2}
PY=/usr/bin/python3
field() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

mkdir -p "$OUT"
base_macs=$($CLI info --model "$MODEL" --json | field macs)
base_top1=$($CLI eval --model "$MODEL" --data "$DATA" --threads "$THREADS" --json | field val_top1)
target=$((base_macs / 2))
$CLI prune --model "$MODEL" --criterion l1 --target-macs "$target" --out "$OUT/pruned.plm" --json >"$OUT/prune.json"
cut_top1=$($CLI eval --model "$OUT/pruned.plm" --data "$DATA" --threads "$THREADS" --json | field val_top1)
echo "model $MODEL: $base_macs MACs, val top-1 $base_top1; pruned (l1) to $(field macs_after <"$OUT/prune.json") MACs: top-1 $cut_top1"
echo
echo "| fine-tune (${FT_EPOCHS} epochs, $FT_LIMIT images, lr $FT_LR) | top-1 per epoch | final top-1 | s |"
echo "|---|---|---|---|"
run() {  # name, extra train options...
  local name=$1
  shift
  rm -rf "$OUT/$name"
  local t0=$SECONDS
  $CLI train --model "$OUT/pruned.plm" --data "$DATA" --epochs "$FT_EPOCHS" --lr "$FT_LR" --warmup 0 \
    --train-limit "$FT_LIMIT" --threads "$THREADS" --out "$OUT/$name" --json "$@" >"$OUT/$name.json"
  local per_epoch
  per_epoch=$($PY -c "import json; print(' / '.join('%.4f' % json.loads(l)['val/top1'] for l in open('$OUT/$name/log.jsonl')))")
  echo "| $name | $per_epoch | $(field val_top1 <"$OUT/$name.json") | $((SECONDS - t0)) |"
}
run plain
for wt in $KD; do
  run "kd-W${wt%%:*}-T${wt##*:}" --teacher "$MODEL" --kd-weight "${wt%%:*}" --kd-temperature "${wt##*:}"
done
