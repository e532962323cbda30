#!/usr/bin/python3
"""Writes ultralytics 8.x checkpoints (YOLOv8n, YOLO11n) as ultralytics' trainer saves them,
plus PyTorch reference outputs, for PruneLab's .pt tests (tests/unit/test_pt_checkpoint.cpp).

ultralytics cannot be installed here, so the model comes from ultralytics_tree/: classes
with ultralytics' module paths, class names and attribute layout (the pickled globals and
state_dict keys of a real checkpoint). The checkpoint dict is the trainer's save_model():
date, version, epoch, best_fitness, model and ema (whole DetectionModels, .half()), updates,
optimizer None, train_args, train_metrics, train_results.

For each NAME (yolov8n_nc80, yolov8n_nc3, yolo11n_nc80, yolo11n_nc3) in --out:
  NAME.pt                 the checkpoint ('ema' differs from 'model': readers must take ema)
  NAME_input.npy          float32 [1, 3, S, S]
  NAME_output{i}.npy      raw head output of level i of the ema weights (fp16 run in fp32)
  NAME_zero_output{i}.npy the same for an all-zero input (the test's sensitivity check)
  NAME_names.json         the class names stored on the model
And for the transfer test (yolov8n_nc80.pt trained on 10 classes):
  transfer_nc10.json      {transferred, total, skipped}: ultralytics' intersect_dicts rule
                          (same key and shape) over DetectionModel(nc=10).state_dict()
  yolov8n_nc80_fp32_state_dict.pt  the ema's state_dict in fp32 (plain torch.save)
Run with Debian's /usr/bin/python3 (python3-torch, python3-yaml).
"""
import argparse
import json
import os
import sys
from copy import deepcopy
from datetime import datetime

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "ultralytics_tree"))
sys.path.insert(0, HERE)
MODELS_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "resources", "models"))

import ultralytics  # noqa: E402
from ultralytics.nn.tasks import DetectionModel  # noqa: E402
from ultralytics.utils import IterableSimpleNamespace  # noqa: E402
from checkpoint_common import randomise_bn  # noqa: E402


def train_args(name, nc):
    return {"task": "detect", "mode": "train", "model": f"{name}.yaml", "data": f"data_nc{nc}.yaml", "epochs": 100,
            "batch": 16, "imgsz": 640, "device": None, "workers": 8, "project": None, "name": "train",
            "pretrained": True, "optimizer": "auto", "seed": 0, "lr0": 0.01, "momentum": 0.937,
            "weight_decay": 0.0005, "close_mosaic": 10, "amp": True, "save_dir": "runs/detect/train"}


def build(name, nc, seed, size):
    model = DetectionModel(os.path.join(MODELS_DIR, name + ".yaml"), ch=3, nc=nc)
    randomise_bn(model, seed, size)
    # What the trainer's set_model_attributes() and data loading put on the model.
    model.nc = nc
    model.names = {i: f"class{i}_{name}" for i in range(nc)}
    model.args = IterableSimpleNamespace(**train_args(name, nc))
    return model


def save_checkpoint(path, name, nc, ema):
    # 'model' is the live training model, a few steps away from the EMA: a reader that
    # takes 'model' when 'ema' is set gets other outputs than the reference.
    model = deepcopy(ema)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    ckpt = {
        "date": datetime.now().isoformat(),
        "version": ultralytics.__version__,
        "license": "AGPL-3.0 (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "epoch": 7,
        "best_fitness": 0.4321,
        "model": deepcopy(model).half(),
        "ema": deepcopy(ema).half(),
        "updates": 1234,
        "optimizer": None,
        "train_args": train_args(name, nc),
        "train_metrics": {"metrics/precision(B)": 0.5, "metrics/mAP50-95(B)": 0.3, "fitness": 0.4321},
        "train_results": {"epoch": [1, 2], "train/box_loss": [1.5, 1.2]},
    }
    torch.save(ckpt, path)


def raw_outputs(model, x):
    model = deepcopy(model).half().float().eval()  # the file's fp16 weights, run in fp32
    with torch.no_grad():
        return [o.numpy() for o in model(x)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=128)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(1, 3, a.size, a.size)
    for seed, (name, nc) in enumerate([("yolov8n", 80), ("yolov8n", 3), ("yolo11n", 80), ("yolo11n", 3)]):
        tag = f"{name}_nc{nc}"
        ema = build(name, nc, seed + 1, a.size)
        save_checkpoint(os.path.join(a.out, tag + ".pt"), name, nc, ema)
        np.save(os.path.join(a.out, tag + "_input.npy"), x.numpy())
        for i, o in enumerate(raw_outputs(ema, x)):
            np.save(os.path.join(a.out, f"{tag}_output{i}.npy"), o)
        for i, o in enumerate(raw_outputs(ema, torch.zeros_like(x))):
            np.save(os.path.join(a.out, f"{tag}_zero_output{i}.npy"), o)
        with open(os.path.join(a.out, tag + "_names.json"), "w") as f:
            json.dump([ema.names[i] for i in range(nc)], f)
        if (name, nc) == ("yolov8n", 80):
            csd = {k: v.half().float() for k, v in ema.state_dict().items()}
            torch.save(csd, os.path.join(a.out, tag + "_fp32_state_dict.pt"))
            target = DetectionModel(os.path.join(MODELS_DIR, name + ".yaml"), ch=3, nc=10).state_dict()
            same = [k for k, v in target.items() if k in csd and v.shape == csd[k].shape]
            with open(os.path.join(a.out, "transfer_nc10.json"), "w") as f:
                json.dump({"transferred": len(same), "total": len(target),
                           "skipped": [k for k in target if k not in same]}, f, indent=1)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
