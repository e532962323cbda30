#!/usr/bin/python3
"""Writes yolov5 checkpoints with yolov5's own code, as its train.py saves them, plus PyTorch
reference outputs, for PruneLab's .pt tests (tests/unit/test_pt_checkpoint.cpp).

The model is yolov5's models.yolo.Model(cfg, nc=...) from a yolov5 checkout (--yolov5 DIR
or $PRUNELAB_YOLOV5_DIR; tested with the v7.0 release). Importing it pulls in packages the
model does not use (pandas, IPython, matplotlib, seaborn, tqdm, requests, thop): those
are stubbed; pkg_resources.parse_version, which the import-time version checks call, is
a real (tiny) version parser. The checkpoint is train.py's dict: epoch, best_fitness,
model (a deepcopy, .half()), ema None, updates, optimizer None, opt, git, date; the
model carries nc, hyp, names and class_weights as train.py sets them.

For each NAME (yolov5n_nc3, yolov5s_nc3) in --out:
  NAME.pt, NAME_input.npy, NAME_output{0,1,2}.npy (raw levels [1, na, ny, nx, nc+5] of the
  fp16 weights run in fp32), NAME_zero_output{i}.npy (all-zero input), NAME_names.json
"""
import argparse
import importlib.abc
import importlib.machinery
import json
import subprocess
import os
import re
import sys
import types
from copy import deepcopy
from datetime import datetime
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_common import randomise_bn  # noqa: E402

STUBBED = ("pandas", "IPython", "matplotlib", "seaborn", "tqdm", "requests", "thop", "psutil", "git", "scipy")


class _Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Any import of a STUBBED package that is not installed gets an inert MagicMock module."""

    def find_spec(self, name, path, target=None):
        return importlib.machinery.ModuleSpec(name, self, is_package=True) if name.split(".")[0] in STUBBED else None

    def create_module(self, spec):
        m = mock.MagicMock()
        m.__path__, m.__name__, m.__spec__, m.__version__ = [], spec.name, spec, "0"
        return m

    def exec_module(self, module):
        pass


def _version(v):
    return tuple(int(x) for x in re.findall(r"\d+", str(v).split("+")[0])[:3])


def import_yolov5(root):
    sys.meta_path.append(_Stubs())  # after the real finders: installed packages are used as they are
    if "pkg_resources" not in sys.modules:
        try:
            import pkg_resources  # noqa: F401
        except ImportError:
            pr = types.ModuleType("pkg_resources")
            pr.parse_version = _version
            sys.modules["pkg_resources"] = pr
    sys.path.insert(0, root)
    from models.yolo import Model  # yolov5's own model code
    return Model


def raw_outputs(model, x):
    m = deepcopy(model).float().eval()
    with torch.no_grad():
        _, levels = m(x)  # eval-mode Detect returns (decoded, raw levels)
    return [o.numpy() for o in levels]


def is_yolov5(d):
    return bool(d) and os.path.isfile(os.path.join(d, "models", "yolo.py"))


def find_yolov5(given, out):
    """yolov5 v7.0 source: the given checkout; else one extracted earlier next to --out; else
    from a local git mirror of ultralytics/yolov5; else a shallow clone of the v7.0 tag."""
    if given:
        return given if is_yolov5(given) else ""
    dest = os.path.join(os.path.dirname(os.path.abspath(out)), "yolov5-v7.0")
    if is_yolov5(dest):
        return dest
    for mirror in ("/work/.mirror/ultralytics+yolov5/repo",):
        if os.path.isdir(mirror):
            os.makedirs(dest, exist_ok=True)
            archive = subprocess.run(["git", "--git-dir", mirror, "archive", "v7.0"], capture_output=True)
            if archive.returncode == 0:
                subprocess.run(["tar", "-x", "-C", dest], input=archive.stdout, check=False)
                if is_yolov5(dest):
                    return dest
    try:
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "v7.0",
                        "https://github.com/ultralytics/yolov5", dest], timeout=120, capture_output=True)
    except (OSError, subprocess.TimeoutExpired):
        pass
    return dest if is_yolov5(dest) else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--yolov5", default=os.environ.get("PRUNELAB_YOLOV5_DIR", ""))
    ap.add_argument("--size", type=int, default=128)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    a.yolov5 = find_yolov5(a.yolov5, a.out)
    if not a.yolov5:
        # No yolov5 here (a machine without the source mirror or GitHub): the yolov5 rows of
        # test_pt_checkpoint skip, naming this file; the ultralytics and hostile rows still run.
        reason = ("no yolov5 checkout: give --yolov5 DIR or PRUNELAB_YOLOV5_DIR (yolov5 v7.0), "
                  "or make https://github.com/ultralytics/yolov5 reachable")
        with open(os.path.join(a.out, "yolov5_unavailable.txt"), "w") as f:
            f.write(reason + "\n")
        print("yolov5_checkpoint.py: " + reason + "; yolov5 rows will be skipped")
        return
    out = os.path.abspath(a.out)
    cwd = os.getcwd()
    os.chdir(a.yolov5)  # yolov5 resolves its model YAMLs and ROOT relative to its checkout
    Model = import_yolov5(os.path.abspath(a.yolov5))
    torch.manual_seed(0)
    x = torch.randn(1, 3, a.size, a.size)
    for seed, (name, nc) in enumerate([("yolov5n", 3), ("yolov5s", 3)]):
        tag = f"{name}_nc{nc}"
        model = Model(os.path.join("models", name + ".yaml"), ch=3, nc=nc)
        randomise_bn(model, seed + 1, a.size)
        # train.py: model attributes, then save_model's dict.
        hyp = {"lr0": 0.01, "momentum": 0.937, "weight_decay": 0.0005, "box": 0.05, "cls": 0.5, "obj": 1.0,
               "anchor_t": 4.0, "fl_gamma": 0.0}
        names = {i: f"class{i}_{name}" for i in range(nc)}  # v7.0's check_dataset makes names a dict
        model.nc, model.hyp, model.names = nc, hyp, names
        model.class_weights = torch.ones(nc) * nc
        ckpt = {"epoch": -1, "best_fitness": None, "model": deepcopy(model).half(), "ema": None, "updates": None,
                "optimizer": None, "opt": {"weights": "", "cfg": name + ".yaml", "data": "data.yaml", "epochs": 3,
                                           "batch_size": 16, "imgsz": 640, "device": "", "hyp": hyp},
                "git": None, "date": datetime.now().isoformat()}
        torch.save(ckpt, os.path.join(out, tag + ".pt"))
        half = ckpt["model"]
        np.save(os.path.join(out, tag + "_input.npy"), x.numpy())
        for i, o in enumerate(raw_outputs(half, x)):
            np.save(os.path.join(out, f"{tag}_output{i}.npy"), o)
        for i, o in enumerate(raw_outputs(half, torch.zeros_like(x))):
            np.save(os.path.join(out, f"{tag}_zero_output{i}.npy"), o)
        with open(os.path.join(out, tag + "_names.json"), "w") as f:
            json.dump([names[i] for i in range(nc)], f)
    os.chdir(cwd)
    print("wrote", out)


if __name__ == "__main__":
    main()
