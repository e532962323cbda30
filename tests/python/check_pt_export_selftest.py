#!/usr/bin/python3
"""Proves check_pt_export.py on files made here in Python, before (and independently of)
PruneLab's writer: it must pass what the frameworks themselves write and what a correct
pruner writes, and fail a pruner that sliced tensors but left a width attribute stale.

  check_pt_export_selftest.py --out DIR [--yolov5 DIR] [--only yolov5,ultralytics,torch]

Writes into DIR (then runs check_pt_export.py on each and checks its verdict):
  dataset/         a tiny YOLO-format dataset shaped like `prunelab-cli make-dataset fashion-det
                   --train 8 --val 4 --size 64` (ultralytics data.yaml with `path: .` and the 10
                   Fashion-MNIST class names; random 64 px images with boxes)
  input.npy        float32 [1, 3, 64, 64]
  yolov5n_plain.pt yolov5n nc=3 as yolov5's train.py saves it (no pruned_by/version)  -> pass
  yolov5n_pruned_ok.pt     nc=10; C3 model.2's cv1 output channels cut 16 -> 12, with its BN,
                   the bottleneck's input and residual output and cv3's input, widths updated  -> pass
  yolov5n_pruned_stale.pt  the same cut with cv1.conv.out_channels left at 16  -> fails 'widths'
                   (and yolov5's own val/detect/export, whose fuse_conv_and_bn reads it)
  yolov8n_plain.pt, yolo11n_plain.pt / yolov8n_pruned_ok.pt / yolov8n_pruned_stale.pt: the
                   ultralytics stand-in, saved as ultralytics_checkpoint.py saves them;
                   the cut is C2f model.2's cv1 (both halves 16 -> 12; bottleneck and cv2 follow);
                   stale: C2f.c left at 16  -> fails 'framework_widths' (and forward_split)
  resnet18.pt      torch.save(model) of torchvision's resnet18  -> pass
  resnet18_pruned_ok.pt / resnet18_pruned_stale.pt: {epoch, model: ResNet, ema, optimizer, date,
                   version, pruned_by} (the dict PruneLab's torch format writes); layer1.0.conv1
                   64 -> 40 outputs; stale: bn1.num_features left at 64  -> fails 'widths'
  *_output{i}.npy  reference outputs: the saved (fp16 for yolo) weights run in fp32
The yolov5 rows need a yolov5 v7.0 checkout (--yolov5 or $PRUNELAB_YOLOV5_DIR); without one
they are skipped, and if nothing else was asked the script exits 77 ("SKIP: ...").
"""
import argparse
import os
import subprocess
import sys
import time
from copy import deepcopy
from datetime import datetime

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checkpoint_common import randomise_bn  # noqa: E402

SIZE = 64
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PRUNED_BY = {"version": "selftest", "tool": "check_pt_export_selftest.py"}


def make_dataset(root, train=8, val=4, size=SIZE, seed=0):
    import cv2
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("val", val)):
        os.makedirs(os.path.join(root, "images", split), exist_ok=True)
        os.makedirs(os.path.join(root, "labels", split), exist_ok=True)
        for i in range(n):
            img = (rng.random((size, size, 3)) * 80 + 40).astype(np.uint8)
            lines = []
            for _ in range(int(rng.integers(1, 4))):
                w, h = rng.integers(size // 6, size // 2, 2)
                x0, y0 = rng.integers(0, size - w), rng.integers(0, size - h)
                img[y0:y0 + h, x0:x0 + w] = rng.integers(120, 255, 3)
                lines.append(f"{int(rng.integers(0, 10))} {(x0 + w / 2) / size:.6f} {(y0 + h / 2) / size:.6f} "
                             f"{w / size:.6f} {h / size:.6f}\n")
            cv2.imwrite(os.path.join(root, "images", split, f"{i:06d}.jpg"), img)
            with open(os.path.join(root, "labels", split, f"{i:06d}.txt"), "w") as f:
                f.write("".join(lines))
    with open(os.path.join(root, "data.yaml"), "w") as f:  # as core/data/detection/fashion_det.cpp writes it
        f.write("# fashion-det: Fashion-MNIST items on textured backgrounds (prunelab-cli make-dataset)\n"
                "path: .\ntrain: images/train\nval: images/val\nnames:\n")
        for i, n in enumerate(FASHION):
            f.write(f"  {i}: {n}\n")


def slice_(t, dim, keep):
    return torch.nn.Parameter(t.data.index_select(dim, keep).clone(), requires_grad=t.requires_grad) \
        if isinstance(t, torch.nn.Parameter) else t.index_select(dim, keep).clone()


def cut_out(conv, bn, keep, update=True, update_bn=True):
    """Keep output channels `keep` of conv (an nn.Conv2d) and its BatchNorm2d."""
    conv.weight = slice_(conv.weight, 0, keep)
    if conv.bias is not None:
        conv.bias = slice_(conv.bias, 0, keep)
    if update:
        conv.out_channels = len(keep)
    if bn is not None:
        for n in ("weight", "bias"):
            setattr(bn, n, slice_(getattr(bn, n), 0, keep))
        bn.running_mean = bn.running_mean[keep].clone()
        bn.running_var = bn.running_var[keep].clone()
        if update_bn:
            bn.num_features = len(keep)


def cut_in(conv, keep, update=True):
    conv.weight = slice_(conv.weight, 1, keep)
    if update:
        conv.in_channels = len(keep)


def update_np(model):
    for layer in model.model:
        layer.np = sum(p.numel() for p in layer.parameters())


# ---------------------------------------------------------------- yolov5

def prune_yolov5_c3(model, stale):
    """C3 model.2 of yolov5n: cv1 16 -> 12 outputs. Its output feeds the bottleneck m.0
    (cv1 input; the residual makes m.0.cv2's output follow) and the first 16 of cv3's inputs."""
    c3 = model.model[2]
    c = c3.cv1.conv.out_channels
    keep = torch.arange(c)[torch.arange(c) % 4 != 1]  # drop 4 of 16
    cut_out(c3.cv1.conv, c3.cv1.bn, keep, update=not stale)
    b = c3.m[0]
    cut_in(b.cv1.conv, keep)
    cut_out(b.cv2.conv, b.cv2.bn, keep)
    cut_in(c3.cv3.conv, torch.cat([keep, torch.arange(c, c3.cv3.conv.in_channels)]))
    update_np(model)


def yolov5_ckpt(model, version):
    ckpt = {"epoch": -1, "best_fitness": None, "model": deepcopy(model).half(), "ema": None, "updates": None,
            "optimizer": None, "opt": {"weights": "", "cfg": "yolov5n.yaml", "data": "data.yaml", "imgsz": SIZE},
            "git": None, "date": datetime.now().isoformat()}
    if version:
        ckpt.update({"version": "prunelab-selftest", "pruned_by": dict(PRUNED_BY), "names": model.names})
    return ckpt


def make_yolov5(out, yolov5, x):
    import yolov5_run
    yolov5_run.install_stubs()
    sys.path.insert(0, yolov5)
    cwd = os.getcwd()
    os.chdir(yolov5)
    try:
        from models.yolo import Model
        import logging
        logging.getLogger("yolov5").setLevel(logging.WARNING)  # not the model tables
        for tag, nc, prune in (("yolov5n_plain", 3, None), ("yolov5n_pruned_ok", 10, False),
                               ("yolov5n_pruned_stale", 10, True)):
            model = Model(os.path.join("models", "yolov5n.yaml"), ch=3, nc=nc)
            randomise_bn(model, 1, SIZE)
            model.nc, model.names = nc, ({i: n for i, n in enumerate(FASHION)} if nc == 10
                                         else {i: f"class{i}" for i in range(nc)})
            model.hyp = {"box": 0.05, "cls": 0.5, "obj": 1.0, "anchor_t": 4.0, "fl_gamma": 0.0}
            model.class_weights = torch.ones(nc)
            if prune is not None:
                prune_yolov5_c3(model, prune)
            ckpt = yolov5_ckpt(model, prune is not None)
            torch.save(ckpt, os.path.join(out, tag + ".pt"))
            m = deepcopy(ckpt["model"]).float().eval()
            with torch.no_grad():
                _, levels = m(x)
            for i, o in enumerate(levels):
                np.save(os.path.join(out, f"{tag}_output{i}.npy"), o.numpy())
    finally:
        os.chdir(cwd)


# ---------------------------------------------------------------- ultralytics

def prune_c2f(model, stale):
    """C2f model.2 of yolov8n: cv1's two halves 16 -> 12 each (C2f.c 16 -> 12); the bottleneck
    m.0 takes the second half (and its residual output follows); cv2 takes both halves and m.0."""
    c2f = model.model[2]
    c = c2f.c
    keep_half = torch.arange(c)[torch.arange(c) % 4 != 1]
    keep = torch.cat([keep_half, keep_half + c])
    cut_out(c2f.cv1.conv, c2f.cv1.bn, keep)
    b = c2f.m[0]
    cut_in(b.cv1.conv, keep_half)
    cut_out(b.cv2.conv, b.cv2.bn, keep_half)
    cut_in(c2f.cv2.conv, torch.cat([keep_half, keep_half + c, keep_half + 2 * c]))
    if not stale:
        c2f.c = len(keep_half)
    update_np(model)


def make_ultralytics(out, x):
    sys.path.insert(0, os.path.join(HERE, "ultralytics_tree"))
    import ultralytics_checkpoint as uc
    for tag, prune in (("yolov8n_plain", None), ("yolo11n_plain", None), ("yolov8n_pruned_ok", False),
                       ("yolov8n_pruned_stale", True)):
        name = tag.split("_")[0]
        ema = uc.build(name, 3, 1, SIZE)
        if prune is not None:
            prune_c2f(ema, prune)
        path = os.path.join(out, tag + ".pt")
        uc.save_checkpoint(path, name, 3, ema)
        if prune is not None:
            ckpt = torch.load(path)
            ckpt["pruned_by"] = dict(PRUNED_BY)
            torch.save(ckpt, path)
        for i, o in enumerate(uc.raw_outputs(ema, x)):
            np.save(os.path.join(out, f"{tag}_output{i}.npy"), o)


# ---------------------------------------------------------------- torch

def make_torch(out, x):
    import torchvision
    for tag, prune in (("resnet18", None), ("resnet18_pruned_ok", False), ("resnet18_pruned_stale", True)):
        torch.manual_seed(0)
        model = torchvision.models.resnet18(weights=None, num_classes=10)
        randomise_bn(model, 3, SIZE)
        if prune is not None:
            blk = model.layer1[0]
            keep = torch.arange(0, 64)[torch.arange(64) % 8 < 5]  # 64 -> 40
            cut_out(blk.conv1, blk.bn1, keep, update_bn=not prune)
            cut_in(blk.conv2, keep)
        model.eval()
        if prune is None:  # torch.save(model)
            torch.save(model, os.path.join(out, tag + ".pt"))
        else:  # the dict core/interop/trainer_checkpoint.cpp writes around a ResNet
            torch.save({"epoch": -1, "model": model, "ema": None, "optimizer": None,
                        "date": datetime.now().isoformat(), "version": "selftest", "pruned_by": dict(PRUNED_BY)},
                       os.path.join(out, tag + ".pt"))
        with torch.no_grad():
            np.save(os.path.join(out, f"{tag}_output.npy"), model(x).numpy())


# ---------------------------------------------------------------- run the checker

def run(case, expect_fail, args, out):
    cmd = [sys.executable, os.path.join(HERE, "check_pt_export.py")] + args
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.time() - t
    with open(os.path.join(out, case + ".log"), "w") as f:
        f.write("$ " + " ".join(cmd) + "\n" + p.stdout + p.stderr)
    failed = [line.split(":")[0][5:] for line in p.stdout.splitlines() if line.startswith("FAIL ")]
    if expect_fail is None:
        good = p.returncode == 0
        want = "exit 0"
    else:
        good = p.returncode == 1 and expect_fail in failed
        want = f"exit 1 with FAIL {expect_fail}"
    print(f"{'ok ' if good else 'BAD'} {case}: exit {p.returncode}, failed checks {failed or '-'} "
          f"(wanted {want}; {dt:.1f} s; log {case}.log)", flush=True)
    if not good:
        print("    " + "\n    ".join((p.stdout + p.stderr).strip().splitlines()[-30:]), flush=True)
    return good


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--yolov5", default=os.environ.get("PRUNELAB_YOLOV5_DIR", ""))
    ap.add_argument("--only", default="yolov5,ultralytics,torch")
    a = ap.parse_args()
    only = set(a.only.split(","))
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(1, 3, SIZE, SIZE)
    inp = os.path.join(out, "input.npy")
    np.save(inp, x.numpy())
    ok, skipped = True, []
    has_yolov5 = bool(a.yolov5) and os.path.isfile(os.path.join(a.yolov5, "models", "yolo.py"))
    if "yolov5" in only and not has_yolov5:
        skipped.append("yolov5 (no yolov5 checkout: --yolov5 DIR or PRUNELAB_YOLOV5_DIR)")
    elif "yolov5" in only:
        data = os.path.join(out, "dataset")
        make_dataset(data)
        make_yolov5(out, os.path.abspath(a.yolov5), x)
        for tag, fail in (("yolov5n_plain", None), ("yolov5n_pruned_ok", None), ("yolov5n_pruned_stale", "widths")):
            args = ["yolov5", "--weights", os.path.join(out, tag + ".pt"), "--input", inp, "--expected-prefix",
                    os.path.join(out, tag + "_output"), "--yolov5", os.path.abspath(a.yolov5), "--data-dir", data,
                    "--work", os.path.join(out, "work_" + tag)]
            ok &= run(tag, fail, args + (["--no-pruned-by"] if tag.endswith("plain") else []), out)
    if "ultralytics" in only:
        make_ultralytics(out, x)
        for tag, fail in (("yolov8n_plain", None), ("yolo11n_plain", None), ("yolov8n_pruned_ok", None),
                          ("yolov8n_pruned_stale", "framework_widths")):
            args = ["ultralytics", "--weights", os.path.join(out, tag + ".pt"), "--input", inp, "--expected-prefix",
                    os.path.join(out, tag + "_output")]
            ok &= run(tag, fail, args + (["--no-pruned-by"] if tag.endswith("plain") else []), out)
    if "torch" in only:
        make_torch(out, x)
        for tag, fail in (("resnet18", None), ("resnet18_pruned_ok", None), ("resnet18_pruned_stale", "widths")):
            ok &= run(tag, fail, ["torch", "--weights", os.path.join(out, tag + ".pt"), "--input", inp,
                                  "--expected", os.path.join(out, tag + "_output.npy")], out)
    for s in skipped:
        print("skipped:", s)
    if skipped and only <= {"yolov5"}:
        print("SKIP: " + "; ".join(skipped))
        sys.exit(77)
    print("selftest", "passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
