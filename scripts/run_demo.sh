#!/usr/bin/env bash
# The main job on the embedded default, once built: the workbench on the shipped demo
# classifier (ResNet-20 trained by PruneLab, resources/demo) and the built-in data.
#   - with a display: opens `prunelab --demo`, ready to sparse-train, prune, fine-tune and
#     export, or to "Run the whole story" (Story menu);
#   - without one (a server, CI): runs the whole story unattended under a virtual display
#     (sparse-train -> bn scores -> prune 40% -> fine-tune -> compare -> export -> report),
#     with a screenshot of each stage in runs/demo/shots/ and the run, with report.html and
#     report.pdf, in runs/demo/runs/story-*/;
#   - PRUNELAB_DEMO=cli: the same loop headless with prunelab-cli (about two minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=runs/demo
GUI=./build/app/prunelab
CLI=./build/app/prunelab-cli

if [ "${PRUNELAB_DEMO:-gui}" = "cli" ] || [ ! -x "$GUI" ]; then
  rm -rf "$OUT" && mkdir -p "$OUT"
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
  exit 0
fi

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$GUI" --demo
fi

rm -rf "$OUT" && mkdir -p "$OUT"
echo "No display: running the whole story in the workbench under xvfb-run (about a minute)."
# Runs land in ./runs (QSettings runs/dir): runs/demo/runs/story-<time>/.
root=$(pwd)
(cd "$OUT" && xvfb-run -a -s "-screen 0 1600x1000x24" "$root/$GUI" --demo --story --story-epochs 2,2 \
   --shots shots --screenshot final.png 2>&1 | grep -v -e XDG_RUNTIME_DIR -e propagateSizeHints || true)
ls "$OUT"/shots
report=$(find "$OUT" -name report.pdf | head -n1)
[ -n "$report" ] || { echo "the story did not write its report"; exit 1; }
echo "Screenshots of each stage: $OUT/shots/ (open them, or run with a display for the window)."
echo "Report: $report and ${report%.pdf}.html"
