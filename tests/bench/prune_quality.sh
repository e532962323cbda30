#!/usr/bin/env bash
# Quality of each importance criterion: a trained classifier is pruned to half its MACs
# by every criterion, evaluated, fine-tuned briefly and evaluated again.
#
#   tests/bench/prune_quality.sh MODEL.plm [OUT_DIR]
# Environment: CLI (default build/app/prunelab-cli), FT_EPOCHS (1), FT_LIMIT (20000),
# FT_LR (0.01), DATA (fashion-mnist), CRITERIA (all seven), RECONSTRUCT (no; "both" adds a
# row per criterion pruned with --reconstruct, the least-squares refit of issue 18).
set -euo pipefail
MODEL=$1
OUT=${2:-runs/prune_quality}
CLI=${CLI:-build/app/prunelab-cli}
DATA=${DATA:-fashion-mnist}
FT_EPOCHS=${FT_EPOCHS:-1}
FT_LIMIT=${FT_LIMIT:-20000}
FT_LR=${FT_LR:-0.01}
CRITERIA=${CRITERIA:-"l1 l2 bn activation taylor reconstruction random"}
RECONSTRUCT=${RECONSTRUCT:-no}
PY=/usr/bin/python3
field() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

mkdir -p "$OUT"
base_macs=$($CLI info --model "$MODEL" --json | field macs)
base_top1=$($CLI eval --model "$MODEL" --data "$DATA" --json | field val_top1)
target=$((base_macs / 2))
echo "model $MODEL: $base_macs MACs, val top-1 $base_top1; target $target MACs"
echo
echo "| criterion | MACs after | params after | top-1 pruned | top-1 after ${FT_EPOCHS}-epoch fine-tune |"
echo "|---|---|---|---|---|"
echo "| (unpruned) | $base_macs | - | $base_top1 | - |"
variants=("")
[[ $RECONSTRUCT == both ]] && variants=("" "--reconstruct")
for c in $CRITERIA; do
  for v in "${variants[@]}"; do
    name=$c${v:+-refit}
    prune_json=$($CLI prune --model "$MODEL" --criterion "$c" --target-macs "$target" --calib "$DATA" $v \
      --out "$OUT/$name.plm" --json)
    macs=$(echo "$prune_json" | field macs_after)
    params=$(echo "$prune_json" | field params_after)
    top1=$($CLI eval --model "$OUT/$name.plm" --data "$DATA" --json | field val_top1)
    rm -rf "$OUT/$name-ft"
    ft=$($CLI train --model "$OUT/$name.plm" --data "$DATA" --epochs "$FT_EPOCHS" --lr "$FT_LR" --warmup 0 \
      --train-limit "$FT_LIMIT" --out "$OUT/$name-ft" --json | field val_top1)
    echo "| $c${v:+ + reconstruct} | $macs | $params | $top1 | $ft |"
  done
done
