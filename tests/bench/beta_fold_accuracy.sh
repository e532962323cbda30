#!/usr/bin/env bash
# What --fold-beta does to accuracy right after the cut (no fine-tuning): a model is
# pruned by |gamma| at several percents with and without folding, and each result is
# evaluated. Folding is applied only where it is exact (Linear and unpadded convs); the
# "folded into / not folded" columns say how many consumers each case had.
#
#   tests/bench/beta_fold_accuracy.sh MODEL DATA [OUT_DIR] [EXTRA_EVAL_ARGS...]
# Environment: CLI (default build/app/prunelab-cli), PERCENTS ("0.2 0.4 0.6"),
# METRIC (val_top1 for classifiers; mAP50-95 key for detectors: map50_95).
set -euo pipefail
MODEL=$1
DATA=$2
OUT=${3:-runs/beta_fold}
shift $(($# < 3 ? $# : 3))
CLI=${CLI:-build/app/prunelab-cli}
PERCENTS=${PERCENTS:-"0.2 0.4 0.6"}
METRIC=${METRIC:-val_top1}
PY=/usr/bin/python3
field() { $PY -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
count() { $PY -c "import json,sys; j=json.load(sys.stdin).get('beta_fold',{}); print(len(j.get('$1',[])))"; }

mkdir -p "$OUT"
base=$($CLI eval --model "$MODEL" --data "$DATA" "$@" --json | field "$METRIC")
echo "model $MODEL on $DATA: unpruned $METRIC $base"
echo
echo "| bn percent | $METRIC without fold | $METRIC with fold | folded into | not folded (padded) |"
echo "|---|---|---|---|---|"
for p in $PERCENTS; do
  $CLI prune --model "$MODEL" --criterion bn --percent "$p" --out "$OUT/plain-$p.plm" --json > "$OUT/plain-$p.json"
  $CLI prune --model "$MODEL" --criterion bn --percent "$p" --fold-beta --out "$OUT/fold-$p.plm" --json > "$OUT/fold-$p.json"
  plain=$($CLI eval --model "$OUT/plain-$p.plm" --data "$DATA" "$@" --json | field "$METRIC")
  fold=$($CLI eval --model "$OUT/fold-$p.plm" --data "$DATA" "$@" --json | field "$METRIC")
  echo "| $p | $plain | $fold | $(count folded < "$OUT/fold-$p.json") | $(count skipped < "$OUT/fold-$p.json") |"
done
