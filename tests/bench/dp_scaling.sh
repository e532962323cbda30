#!/usr/bin/env bash
# Issue 17 goals. (1) Data-parallel scaling on this machine: training images/s of one
# process with 2 threads, one with 1 thread, and 2 processes with 1 thread each (--nproc 2,
# gradients all-reduced during backward, and after it with --no-grad-overlap), at the same
# global batch, beside the peer: PyTorch itself in the same three shapes (trainer_pytorch.py,
# DistributedDataParallel on Gloo for 2 processes), all run interleaved for ROUNDS rounds
# (the machine's load drifts; the ratios within a round are what compares). (2) On paper, for 8 GPUs x 4 machines: gradient bytes
# all-reduced per step for YOLOv8n, YOLOv5s and ResNet-50 (fp32, every trainable parameter)
# and the time a ring all-reduce needs for them at 10 and 100 Gbit/s between machines.
#
#   tests/bench/dp_scaling.sh [OUT_DIR]
# Environment: BUILD (build), ROUNDS (3), MODEL (resnet20), IMAGES (4096), BATCH (64, global),
# EPOCHS (1).
set -euo pipefail
OUT=${1:-runs/dp_scaling}
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
MODEL=${MODEL:-resnet20}
IMAGES=${IMAGES:-4096}
BATCH=${BATCH:-64}
EPOCHS=${EPOCHS:-1}
CLI=$BUILD/app/prunelab-cli
PY=/usr/bin/python3
mkdir -p "$OUT"
echo "load before: $(uptime)"

run() {  # name, extra args...; prints images/s
  local name=$1; shift
  rm -rf "$OUT/$name"
  "$CLI" train --model "$MODEL" --data fashion-mnist --train-limit "$IMAGES" --val-limit 256 --epochs "$EPOCHS" \
    --sr 1e-4 --workers 1 --gamma-every 0 --json --out "$OUT/$name" "$@" 2>/dev/null |
    $PY -c 'import json,sys; t=sys.stdin.read(); print(json.loads(t[t.index("{"):])["images_per_s"])'
}

pytorch() {  # threads, nproc, batch; prints images/s
  $PY "$(dirname "$0")/trainer_pytorch.py" --images "$IMAGES" --val 256 --workers 1 --threads "$1" --nproc "$2" \
    --batch "$3" 2>/dev/null | tail -1 | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["images_per_s"])'
}

rm -f "$OUT/rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
  a=$(run 1proc_2threads --threads 2 --batch "$BATCH")
  b=$(run 1proc_1thread --threads 1 --batch "$BATCH")
  c=$(run 2proc_1thread --threads 1 --batch $((BATCH / 2)) --nproc 2)
  d=$(run 2proc_1thread_no_overlap --threads 1 --batch $((BATCH / 2)) --nproc 2 --no-grad-overlap)
  e=$(pytorch 2 1 "$BATCH")
  f=$(pytorch 1 1 "$BATCH")
  g=$(pytorch 1 2 $((BATCH / 2)))
  printf "round %d: PruneLab 1x2 %.0f, 1x1 %.0f, 2x1 %.0f, 2x1 no overlap %.0f | PyTorch 1x2 %.0f, 1x1 %.0f, 2x1 DDP %.0f img/s\n" \
    "$round" "$a" "$b" "$c" "$d" "$e" "$f" "$g"
  echo "$round $a $b $c $d $e $f $g" >> "$OUT/rounds.txt"
done
$PY - "$OUT/rounds.txt" <<'PY'
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in open(sys.argv[1]) if l.strip()]
m = [statistics.median(c) for c in zip(*rows)]
print("\nmedian over %d rounds (images/s, training incl. data loading):" % len(rows))
print("| | 1 process x 2 threads | 1 process x 1 thread | 2 processes x 1 thread | 2x1 / 1x2 | 2x1 / 1x1 |")
print("|---|---|---|---|---|---|")
print("| PruneLab | %.0f | %.0f | %.0f (all-reduce after backward: %.0f) | %.2f | %.2f |"
      % (m[0], m[1], m[2], m[3], m[2] / m[0], m[2] / m[1]))
print("| PyTorch (DDP, Gloo) | %.0f | %.0f | %.0f | %.2f | %.2f |" % (m[4], m[5], m[6], m[6] / m[4], m[6] / m[5]))
PY

echo
echo "On paper: 8 GPUs x 4 machines (32 ranks), fp32 gradients, ring all-reduce; the ring crosses"
echo "machines 4 times and each crossing carries 2 (N-1)/N of the bytes, N = 32."
params() { "$CLI" info --model "$1" --json 2>/dev/null | $PY -c 'import json,sys; t=sys.stdin.read(); print(json.loads(t[t.index("{"):])["params"])'; }
v8n=$(params yolov8n)
v5s=$(params yolov5s)
r50=$($PY -c 'import torchvision; print(sum(p.numel() for p in torchvision.models.resnet50().parameters()))')
$PY - "$v8n" "$v5s" "$r50" <<'PY'
import sys
names = ["YOLOv8n", "YOLOv5s", "ResNet-50"]
print("| model | parameters | MB all-reduced per step | bytes over each inter-machine link | step floor at 10 Gbit/s | at 100 Gbit/s |")
print("|---|---|---|---|---|---|")
n = 32
for name, p in zip(names, map(int, sys.argv[1:])):
    b = 4 * p
    link = 2 * (n - 1) / n * b
    print("| %s | %.2fM | %.1f | %.1f MB | %.0f ms | %.1f ms |" % (name, p / 1e6, b / 1e6, link / 1e6,
          link * 8 / 10e9 * 1e3, link * 8 / 100e9 * 1e3))
PY
echo "load after: $(uptime)"
