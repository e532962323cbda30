#!/usr/bin/env bash
# The main job on the embedded default, once built: the Network Slimming loop on a
# built-in model and the built-in data (Fashion-MNIST), headless, in about two minutes.
#   sparse-train ResNet-20 (BN-gamma L1, sr) -> prune 40% of channels by |gamma| ->
#   evaluate -> fine-tune -> evaluate. Results land in runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=./build/app/prunelab-cli
OUT=runs/demo
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== the model"
$CLI info --model resnet20 --in-channels 1 --input 1x28x28 | tail -n 1
echo "== sparse training (sr 1e-4) on 12000 images, 2 epochs"
$CLI train --model resnet20 --data fashion-mnist --epochs 2 --train-limit 12000 --val-limit 2000 \
  --sr 1e-4 --out "$OUT/sparse"
echo "== prune 40% of the channels with the smallest |gamma|"
$CLI prune --model "$OUT/sparse/last.plm" --criterion bn --percent 0.4 --out "$OUT/pruned.plm" | tail -n 3
$CLI eval --model "$OUT/pruned.plm" --data fashion-mnist --val-limit 2000
echo "== fine-tune 1 epoch"
$CLI train --model "$OUT/pruned.plm" --data fashion-mnist --epochs 1 --lr 0.02 --train-limit 12000 \
  --val-limit 2000 --out "$OUT/finetune"
$CLI eval --model "$OUT/finetune/last.plm" --data fashion-mnist --val-limit 2000
