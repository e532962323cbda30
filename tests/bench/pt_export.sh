#!/usr/bin/env bash
# Writing pruned models back as the trainers' .pt: how long the write takes and how the file's
# size compares with torch.save() of the very same objects (PyTorch re-saving what it loaded).
#   tests/bench/pt_export.sh [BUILD_DIR] [ROUNDS]     (default build, 5)
# Models: the ultralytics stand-in's YOLOv8n and YOLO11n (3 classes) pruned 30 % by l1,
# yolov5's own yolov5s (tests/data/pt) pruned 50 % by l2. Prints one row per model: the
# median/min/max of the write alone (export --no-check's write_s; load and check excluded),
# the file size, torch.save's size of the loaded checkpoint, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
ROUNDS=${2:-5}
CLI=$BUILD/app/prunelab-cli
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
$PY tests/python/ultralytics_checkpoint.py --out "$W/ul" > /dev/null
declare -A SRC=([yolov8n]="$W/ul/yolov8n_nc3.pt l1 0.3 ultralytics" [yolo11n]="$W/ul/yolo11n_nc3.pt l1 0.3 ultralytics"
                [yolov5s]="tests/data/pt/yolov5s_nc3.pt l2 0.5 yolov5")
printf "| model | format | write s (median, min-max of %d) | file MB | torch.save MB | file / torch.save |\n" "$ROUNDS"
printf "|---|---|---|---|---|---|\n"
for m in yolov8n yolo11n yolov5s; do
  read -r src crit pct fmt <<<"${SRC[$m]}"
  $CLI prune --model "$src" --criterion "$crit" --percent "$pct" --out "$W/$m.plm" > /dev/null 2>&1
  times=()
  for ((r = 0; r < ROUNDS; ++r)); do
    times+=("$($CLI export --model "$W/$m.plm" --format "$fmt" --out "$W/$m.pt" --no-check --json |
               $PY -c 'import json,sys; print(json.load(sys.stdin)["write_s"])')")
  done
  stats=$(printf "%s\n" "${times[@]}" | sort -g | $PY -c 'import sys; v=[float(x) for x in sys.stdin]; print("%.3f (%.3f-%.3f)" % (v[len(v)//2], v[0], v[-1]))')
  # torch.save of what torch.load gives back (yolov5's classes come from the stand-in-free
  # pickle: the globals are only looked up, so a module stub that has them is enough).
  # torch.save of what torch.load gives back. yolov5's classes (models.*) need not be
  # importable: unpickling only looks them up, so a stand-in class per name is enough.
  sizes=$($PY - "$W/$m.pt" "$W/$m.resaved.pt" <<'PYEOF'
import importlib.abc, importlib.machinery, os, sys, types, torch
sys.path.insert(0, os.path.join(os.getcwd(), "tests/python/ultralytics_tree"))
class Classes(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        return importlib.machinery.ModuleSpec(name, self, is_package=True) if name.split(".")[0] == "models" else None
    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__path__ = []
        made = {}  # one class per name: pickling looks the class up again and must find the same
        m.__getattr__ = lambda n, mod=spec.name: made.setdefault(n, type(n, (torch.nn.Module,), {"__module__": mod}))
        return m
    def exec_module(self, module):
        pass
sys.meta_path.append(Classes())
ck = torch.load(sys.argv[1])
torch.save(ck, sys.argv[2])
a, b = os.path.getsize(sys.argv[1]), os.path.getsize(sys.argv[2])
print("%.2f %.2f %.3f" % (a / 1e6, b / 1e6, a / b))
PYEOF
)
  read -r a b ratio <<<"$sizes"
  printf "| %s | %s | %s | %s | %s | %s |\n" "$m" "$fmt" "$stats" "$a" "$b" "$ratio"
done
