#!/usr/bin/python3
"""Writes ultralytics 8.x checkpoints (YOLOv8n, YOLO11n) as ultralytics' trainer saves them,
plus PyTorch reference outputs, for PruneLab's .pt tests (tests/parity/test_pt_checkpoint.cpp).

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
And a mid-training last.pt (the trainer's save_model() at the end of an epoch):
  yolov8n_last.pt         'model' None, 'ema' the EMA (.half()) carrying `criterion`, the
                          ultralytics.utils.loss.v8DetectionLoss the validator leaves on it
                          (its hyp is the model's IterableSimpleNamespace `args`), 'optimizer'
                          a real SGD state_dict (nesterov, ultralytics' three parameter groups,
                          fp16 momentum buffers as convert_optimizer_state_dict_to_fp16 stores
                          them, the warmup's numpy floats in the groups) after two steps,
                          'updates', 'train_args', 'train_metrics', 'train_results', 'epoch'...
  yolov8n_last_input.npy, _output{i}.npy, _zero_output{i}.npy, _names.json as above (the ema's
                          weights). The steps' gradients come from a stand-in loss (the
                          outputs' mean square): ultralytics_tree does not compute the real one.
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
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "ultralytics_tree"))
sys.path.insert(0, HERE)
MODELS_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "resources", "models"))

import ultralytics  # noqa: E402
from ultralytics.nn.tasks import DetectionModel  # noqa: E402
from ultralytics.utils import IterableSimpleNamespace  # noqa: E402
from ultralytics.utils.torch_utils import ModelEMA, convert_optimizer_state_dict_to_fp16  # noqa: E402
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


def build_optimizer(model, lr, momentum, decay):
    """The trainer's build_optimizer() for optimizer=SGD: biases, then weights with decay,
    then normalization weights without."""
    g = [], [], []
    norms = tuple(v for k, v in nn.__dict__.items() if "Norm" in k)
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            fullname = f"{module_name}.{param_name}" if module_name else param_name
            if "bias" in fullname:
                g[2].append(param)
            elif isinstance(module, norms):
                g[1].append(param)
            else:
                g[0].append(param)
    optimizer = torch.optim.SGD(g[2], lr=lr, momentum=momentum, nesterov=True)
    optimizer.add_param_group({"params": g[0], "weight_decay": decay})
    optimizer.add_param_group({"params": g[1], "weight_decay": 0.0})
    return optimizer


def save_last(path, size, x):
    """yolov8n_last.pt: save_model() at the end of epoch 3 of 100 (nb = 100 batches, so ni = 300
    is the warmup's last iteration). The EMA is 5000 updates old, so the two steps move it
    little; the live model is perturbed first (the training since the EMA last caught up)."""
    name, nc = "yolov8n", 3
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(5)
    model = build(name, nc, 6, size)
    args = {**train_args(name, nc), "optimizer": "SGD", "nbs": 64, "lrf": 0.01, "cos_lr": False,
            "warmup_epochs": 3.0, "warmup_momentum": 0.8, "warmup_bias_lr": 0.1, "box": 7.5, "cls": 0.5, "dfl": 1.5,
            "save_dir": "runs/detect/train"}
    model.args = args = IterableSimpleNamespace(**args)  # set_model_attributes(): the trainer's own namespace
    for k, p in model.named_parameters():  # _setup_train(): the DFL conv stays frozen
        p.requires_grad = ".dfl" not in k
    nbs, batch = args.nbs, args.batch
    accumulate = max(round(nbs / batch), 1)
    weight_decay = args.weight_decay * batch * accumulate / nbs
    optimizer = build_optimizer(model, args.lr0, args.momentum, weight_decay)
    lf = lambda e: max(1 - e / args.epochs, 0) * (1.0 - args.lrf) + args.lrf  # noqa: E731 (linear)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
    ema = ModelEMA(model)

    epoch, nb = 3, 100
    nw = max(round(args.warmup_epochs * nb), 100)
    ema.updates = 5000
    last_opt_step = epoch * nb - 1
    scheduler.last_epoch = epoch - 1
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * p.abs().mean() * torch.randn(p.shape, generator=g))
    model.train()
    optimizer.zero_grad()
    for ni in range(epoch * nb, epoch * nb + 2 * accumulate):  # two optimizer steps
        if ni <= nw:  # warmup: np.interp leaves numpy.float64 in the param groups
            xi = [0, nw]
            accumulate = max(1, int(np.interp(ni, xi, [1, nbs / batch]).round()))
            for j, grp in enumerate(optimizer.param_groups):
                grp["lr"] = np.interp(ni, xi, [args.warmup_bias_lr if j == 0 else 0.0, grp["initial_lr"] * lf(epoch)])
                if "momentum" in grp:
                    grp["momentum"] = np.interp(ni, xi, [args.warmup_momentum, args.momentum])
        preds = model(torch.rand(2, 3, size, size, generator=g))
        loss = sum(p.float().pow(2).mean() for p in preds)  # stand-in for v8DetectionLoss
        loss.backward()
        if ni - last_opt_step >= accumulate:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
            optimizer.step()
            optimizer.zero_grad()
            ema.update(model)
            last_opt_step = ni
    scheduler.step()
    # End of epoch: the EMA takes the model's attributes, then the validator's loss call on it
    # creates (and leaves) its criterion.
    ema.update_attr(model, include=["yaml", "nc", "args", "names", "stride", "class_weights"])
    ema.ema.criterion = ema.ema.init_criterion()
    metrics = {"metrics/precision(B)": 0.51234, "metrics/recall(B)": 0.41234, "metrics/mAP50(B)": 0.45678,
               "metrics/mAP50-95(B)": 0.30123, "val/box_loss": 1.2345, "val/cls_loss": 1.5432, "val/dfl_loss": 1.1111}
    fitness = 0.31679
    ckpt = {
        "epoch": epoch,
        "best_fitness": fitness,
        "model": None,  # resume and final checkpoints derive from the EMA
        "ema": deepcopy(ema.ema).half(),
        "updates": ema.updates,
        "optimizer": convert_optimizer_state_dict_to_fp16(deepcopy(optimizer.state_dict())),
        "train_args": vars(args),
        "train_metrics": {**metrics, **{"fitness": fitness}},
        "train_results": {"epoch": [1, 2, 3, 4], "train/box_loss": [1.9, 1.7, 1.6, 1.5],
                          "metrics/mAP50-95(B)": [0.1, 0.2, 0.28, 0.30123], "lr/pg0": [0.07, 0.04, 0.01, 0.009703]},
        "date": datetime.now().isoformat(),
        "version": ultralytics.__version__,
        "license": "AGPL-3.0 (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
    }
    torch.save(ckpt, path)
    return ckpt["ema"]


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
    tag = "yolov8n_last"
    ema = save_last(os.path.join(a.out, tag + ".pt"), a.size, x)
    np.save(os.path.join(a.out, tag + "_input.npy"), x.numpy())
    for i, o in enumerate(raw_outputs(ema, x)):
        np.save(os.path.join(a.out, f"{tag}_output{i}.npy"), o)
    for i, o in enumerate(raw_outputs(ema, torch.zeros_like(x))):
        np.save(os.path.join(a.out, f"{tag}_zero_output{i}.npy"), o)
    with open(os.path.join(a.out, tag + "_names.json"), "w") as f:
        json.dump([ema.names[i] for i in range(len(ema.names))], f)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
