#!/usr/bin/env bash
# How long the sensitivity sweep of a YOLOv8 detector takes with each evaluation method:
# --method mask (one model, the readers of the cut channels zeroed; batches built once)
# against --method surgery (every cut built and validated from scratch), on the same
# validation images, with the load (uptime) before and after each run. The two metrics
# tables are compared cell by cell where both measured.
#
#   tests/bench/sensitivity_speed.sh [OUT_DIR]
# Environment: CLI (build/app/prunelab-cli), MODEL (resources/demo/detector.plm, a YOLOv8
# layout trained on fashion-det at 160 px), DATA (a data.yaml; default: a fashion-det of
# VAL validation images made here), VAL (100), RATIOS (0.1,0.3,0.5,0.7,0.9),
# SURGERY_GROUPS (how many groups the surgery run sweeps, spread over the model: the
# whole surgery sweep takes about 17 minutes; 0 = all), ROUNDS (1: mask, surgery per
# round, interleaved), EXTRA (more sensitivity options for both, e.g. --no-latency).
set -euo pipefail
OUT=${1:-runs/sensitivity_speed}
CLI=${CLI:-build/app/prunelab-cli}
MODEL=${MODEL:-resources/demo/detector.plm}
VAL=${VAL:-100}
RATIOS=${RATIOS:-0.1,0.3,0.5,0.7,0.9}
SURGERY_GROUPS=${SURGERY_GROUPS:-11}
ROUNDS=${ROUNDS:-1}
EXTRA=${EXTRA:-}
PY=/usr/bin/python3
mkdir -p "$OUT"
if [ -z "${DATA:-}" ]; then
  DATA=$OUT/fashion-det/data.yaml
  [ -f "$DATA" ] || $CLI make-dataset fashion-det --out "$OUT/fashion-det" --train 8 --val "$VAL" > /dev/null
fi
load() { uptime | sed 's/.*load average: //'; }

# The surgery run's groups: SURGERY_GROUPS keys spread evenly over the mask table's rows.
groups_of() {
  $PY - "$1" "$2" <<'PYEOF'
import json, sys
rows = [r["group"] for r in json.load(open(sys.argv[1]))["groups"]]
n = int(sys.argv[2])
if n <= 0 or n >= len(rows):
    print("")
else:
    print(",".join(rows[k * (len(rows) - 1) // (n - 1)] for k in range(n)))
PYEOF
}

run() {  # method, round, [--groups LIST]
  local method=$1 round=$2
  shift 2
  local before after start end
  before=$(load)
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  $CLI sensitivity --model "$MODEL" --data "$DATA" --val-images "$VAL" --ratios "$RATIOS" --method "$method" \
    "$@" $EXTRA --out "$OUT/$method-$round.json" > "$OUT/$method-$round.txt" 2> "$OUT/$method-$round.err"
  end=$(date +%s.%N)
  after=$(load)
  $PY - "$OUT/$method-$round.json" "$method" "$start" "$end" "$before" "$after" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))
cells = [c for r in t["groups"] for c in r["cells"]]
measured = sum(1 for c in cells if c.get("measured", True))
wall = float(sys.argv[4]) - float(sys.argv[3])
print(f"| {sys.argv[2]} | {len(t['groups'])} x {len(t['ratios'])} | {measured} | {wall:.0f} s | "
      f"{wall / len(cells):.2f} s | {sys.argv[5]} | {sys.argv[6]} |")
PYEOF
}

echo "model $MODEL, data $DATA, $VAL images, ratios $RATIOS, extra options: ${EXTRA:-none}"
echo "| method | groups x ratios | cells measured | wall | per cell | load before (1/5/15 min) | load after |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  run mask "$round"
  groups=$(groups_of "$OUT/mask-$round.json" "$SURGERY_GROUPS")
  if [ -n "$groups" ]; then run surgery "$round" --groups "$groups"; else run surgery "$round"; fi
done

# Mask against surgery where both measured a cell (the mask run's --stop-below may have
# extrapolated some): the largest metric difference.
$PY - "$OUT/mask-1.json" "$OUT/surgery-1.json" <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
rows = {r["group"]: r for r in a["groups"]}
diffs = []
for r in b["groups"]:
    for ca, cb in zip(rows[r["group"]]["cells"], r["cells"]):
        if ca.get("measured", True) and cb.get("measured", True):
            diffs.append(abs(ca["metric"] - cb["metric"]))
print(f"baseline {a['metric']}: mask {a['baseline']:.6f}, surgery {b['baseline']:.6f}; "
      f"{len(diffs)} cells measured by both, largest metric difference {max(diffs):.3g}")
PYEOF
