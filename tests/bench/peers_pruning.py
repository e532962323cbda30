#!/usr/bin/python3
"""Pruning speed, PruneLab against Torch-Pruning, both run here and now.

Runs build/tests/bench/bench_pruning --speed-only --json and Torch-Pruning on the same
cases, interleaved round by round (odd rounds PruneLab first, even rounds Torch-Pruning
first), each side in a fresh process per round, and prints one markdown table: per case the
median over rounds of each side's per-round median, and the ratio Torch-Pruning / PruneLab
(its median and min-max over rounds).

  /usr/bin/python3 tests/bench/peers_pruning.py --bench build/tests/bench/bench_pruning \\
      [--torch-pruning DIR] [--yolov5 DIR] [--rounds 5] [--repeats 5] [--threads 2]

DIR for --torch-pruning is a Torch-Pruning source tree (the folder holding torch_pruning/),
or $PRUNELAB_TORCH_PRUNING_DIR. --yolov5 is a yolov5 v7.0 tree, or $PRUNELAB_YOLOV5_DIR:
Torch-Pruning's YOLOv5s is yolov5's own models.yolo.Model; without the tree that row says
it was skipped.

The cases are bench_pruning's: a 50% per-layer L2 prune of torchvision's ResNet-18 at
3x224x224 (fc kept), YOLOv5s at 3x160x160 (Detect kept) and the synthetic YOLO-like graph of
tests/support/synthetic_models.h (width 32) at 3x160x160 (its two heads kept). Torch-Pruning's
time is what its user pays for the same result: MagnitudePruner construction (it traces the
model and builds its dependency graph) plus step(); PruneLab's is shape inference, dependency
analysis, scores, plan and surgery. Model construction is outside both, and so is each
side's process start and imports. Each side reports the median of --repeats prunes of fresh
copies; the parameter counts after the cut are printed so that a reader can see both sides
removed the same channels.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

RESNET18 = "ResNet-18"
YOLOV5S = "YOLOv5s"
YOLO_LIKE = "YOLO-like synthetic (C2f, SPPF, 2 heads)"


# --- the Torch-Pruning side (run in its own process: --worker) ---------------------------------

def yolo_like(width=32):
    """tests/support/synthetic_models.h's yoloLike(width) in PyTorch, layer for layer."""
    import torch
    import torch.nn as nn

    def block(c1, c2, k, s=1):
        return nn.Sequential(nn.Conv2d(c1, c2, k, s, k // 2, bias=False), nn.BatchNorm2d(c2), nn.SiLU())

    # C2f as Torch-Pruning's own YOLOv8 example writes it (C2f_v2): the split of cv1's output
    # becomes two 1x1 convs over the halves of cv1's filters, the same function and
    # parameters. Torch-Pruning 1.6 cannot trace the split form: a split output read by
    # several nodes ends in an IndexError in its shape_infer.
    class C2f(nn.Module):
        def __init__(self, c1, c2, n):
            super().__init__()
            h = c2 // 2
            self.cv0, self.cv1 = block(c1, h, 1), block(c1, h, 1)
            self.m = nn.ModuleList(nn.Sequential(block(h, h, 3), block(h, h, 3)) for _ in range(n))
            self.cv2 = block((2 + n) * h, c2, 1)

        def forward(self, x):
            parts = [self.cv0(x), self.cv1(x)]
            for m in self.m:
                parts.append(parts[-1] + m(parts[-1]))
            return self.cv2(torch.cat(parts, 1))

    class Sppf(nn.Module):
        def __init__(self, c1, c2):
            super().__init__()
            self.cv1 = block(c1, c1 // 2, 1)
            self.m = nn.MaxPool2d(5, 1, 2)
            self.cv2 = block(4 * (c1 // 2), c2, 1)

        def forward(self, x):
            parts = [self.cv1(x)]
            for _ in range(3):
                parts.append(self.m(parts[-1]))
            return self.cv2(torch.cat(parts, 1))

    class YoloLike(nn.Module):
        def __init__(self, w):
            super().__init__()
            self.stem = block(3, w, 3, 2)
            self.p3 = C2f(w, 2 * w, 2)
            self.down = block(2 * w, 4 * w, 3, 2)
            self.sppf = Sppf(4 * w, 4 * w)
            self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
            self.head = C2f(6 * w, 2 * w, 1)
            self.cv3 = nn.Conv2d(2 * w, 18, 1)  # the detection heads: kept whole
            self.cv4 = nn.Conv2d(4 * w, 18, 1)

        def forward(self, x):
            p3 = self.p3(self.stem(x))
            x = self.sppf(self.down(p3))
            head = self.head(torch.cat([self.up(x), p3], 1))
            return self.cv3(head), self.cv4(x)

    m = YoloLike(width)
    return m, [m.cv3, m.cv4]


def yolov5s(yolov5_dir):
    """yolov5's own YOLOv5s (80 classes), Detect kept; None without a yolov5 tree."""
    if not yolov5_dir:
        return None
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    from yolov5_checkpoint import import_yolov5  # stubs the packages yolov5 imports but the model never uses
    Model = import_yolov5(os.path.abspath(yolov5_dir))
    m = Model(os.path.join(yolov5_dir, "models", "yolov5s.yaml"), ch=3, nc=80)
    return m, [m.model[-1]]


def peer_cases(yolov5_dir):
    """(name, input CHW, model and its kept layers, or None with why) per bench_pruning case."""
    import torchvision
    r18 = torchvision.models.resnet18(num_classes=1000)
    y5 = yolov5s(yolov5_dir)
    return [(RESNET18, (3, 224, 224), (r18, [r18.fc])),
            (YOLOV5S, (3, 160, 160), y5 if y5 else "skipped: no yolov5 v7.0 tree (--yolov5 or PRUNELAB_YOLOV5_DIR)"),
            (YOLO_LIKE, (3, 160, 160), yolo_like(32))]


def time_torch_pruning(tp, model, kept, chw, repeats):
    """Median ms of MagnitudePruner construction + step() on fresh copies; params after."""
    import copy
    import torch
    example = torch.randn(1, *chw)
    samples, params = [], 0
    for _ in range(repeats):
        m = copy.deepcopy(model).eval()
        ignored = [copy_of(m, model, k) for k in kept]
        t0 = time.perf_counter()
        pruner = tp.pruner.MagnitudePruner(m, example, importance=tp.importance.MagnitudeImportance(p=2),
                                           pruning_ratio=0.5, ignored_layers=ignored)
        pruner.step()
        samples.append(1000 * (time.perf_counter() - t0))
        params = sum(p.numel() for p in m.parameters())
    return statistics.median_high(samples), params


def copy_of(copied, original, module):
    """The module of `copied` at the place `module` has in `original`."""
    names = {id(v): k for k, v in original.named_modules()}
    return copied.get_submodule(names[id(module)])


def worker(a):
    import torch
    sys.path.insert(0, os.path.abspath(a.torch_pruning))
    import torch_pruning as tp
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for name, chw, case in peer_cases(a.yolov5):
        row = {"case": name}
        if isinstance(case, str):
            row["skipped"] = case
        else:
            model, kept = case
            row["params_before"] = sum(p.numel() for p in model.parameters())
            row["total_ms"], row["params_after"] = time_torch_pruning(tp, model, kept, chw, a.repeats)
        print(json.dumps(row), flush=True)


# --- the driver ----------------------------------------------------------------------------------

def json_rows(cmd):
    """{case: row} from a command printing one JSON object per line (other lines ignored)."""
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {r["case"]: r for r in rows}


def peer_versions(tp_dir):
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import torch, torch_pruning as tp; "
            "print(f'Torch-Pruning {tp.__version__} ({tp.__file__}), torch {torch.__version__}')")
    return subprocess.run([sys.executable, "-c", code, os.path.abspath(tp_dir)], check=True, stdout=subprocess.PIPE,
                          text=True).stdout.strip()


def run_rounds(a):
    """Per round {'prunelab': {case: row}, 'peer': {case: row}}, alternating which goes first."""
    mine = [a.bench, "--speed-only", "--json", "--repeats", str(a.repeats), "--threads", str(a.threads)]
    peer = [sys.executable, os.path.abspath(__file__), "--worker", "--torch-pruning", a.torch_pruning,
            "--repeats", str(a.repeats), "--threads", str(a.threads)] + (["--yolov5", a.yolov5] if a.yolov5 else [])
    rounds = []
    for r in range(a.rounds):
        order = [("prunelab", mine), ("peer", peer)]
        if r % 2:
            order.reverse()
        result = {side: json_rows(cmd) for side, cmd in order}
        rounds.append(result)
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(
            f"{c}: {row.get('total_ms', 0):.1f} / {result['peer'].get(c, {}).get('total_ms', float('nan')):.1f} ms"
            for c, row in result["prunelab"].items()), file=sys.stderr, flush=True)
    return rounds


def print_table(rounds):
    print("| case | PruneLab median ms | Torch-Pruning median ms | ratio TP / PruneLab (median) | ratio min-max "
          "| params before | params after PruneLab / TP |")
    print("|---|---|---|---|---|---|---|")
    for case, first in rounds[0]["prunelab"].items():
        mine = [r["prunelab"][case]["total_ms"] for r in rounds]
        peer_rows = [r["peer"].get(case, {"skipped": "no such case in the peer script"}) for r in rounds]
        if "skipped" in peer_rows[0]:
            print(f"| {case} | {statistics.median_high(mine):.1f} | {peer_rows[0]['skipped']} | - | - "
                  f"| {first['params_before']:,} | {first['params_after']:,} / - |")
            continue
        theirs = [p["total_ms"] for p in peer_rows]
        ratios = [t / m for t, m in zip(theirs, mine)]
        print(f"| {case} | {statistics.median_high(mine):.1f} | {statistics.median_high(theirs):.1f} "
              f"| {statistics.median_high(ratios):.1f}x | {min(ratios):.1f}-{max(ratios):.1f}x "
              f"| {first['params_before']:,} / {peer_rows[0]['params_before']:,} "
              f"| {first['params_after']:,} / {peer_rows[0]['params_after']:,} |")


def uptime():
    return subprocess.run(["uptime"], stdout=subprocess.PIPE, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", help="bench_pruning executable")
    ap.add_argument("--torch-pruning", default=os.environ.get("PRUNELAB_TORCH_PRUNING_DIR", ""))
    ap.add_argument("--yolov5", default=os.environ.get("PRUNELAB_YOLOV5_DIR", ""))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5, help="prunes per side per round (their median is the round's)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not a.torch_pruning or not os.path.isfile(os.path.join(a.torch_pruning, "torch_pruning", "__init__.py")):
        sys.exit("peers_pruning: give --torch-pruning DIR or PRUNELAB_TORCH_PRUNING_DIR: a Torch-Pruning source tree "
                 f"(the folder holding torch_pruning/; got '{a.torch_pruning}')")
    if a.yolov5 and not os.path.isfile(os.path.join(a.yolov5, "models", "yolo.py")):
        sys.exit(f"peers_pruning: {a.yolov5} is not a yolov5 tree (no models/yolo.py)")
    if a.worker:
        return worker(a)
    if not a.bench or not os.access(a.bench, os.X_OK):
        sys.exit(f"peers_pruning: --bench must be the bench_pruning executable (got '{a.bench}')")
    if a.rounds < 1 or a.repeats < 1:
        sys.exit("peers_pruning: --rounds and --repeats must be >= 1")
    print(peer_versions(a.torch_pruning))
    print(f"{a.rounds} interleaved rounds, {a.repeats} prunes per side per round, {a.threads} threads")
    print(f"load before: {uptime()}\n")
    t0 = time.time()
    rounds = run_rounds(a)
    print_table(rounds)
    print(f"\nload after: {uptime()} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
