"""DetectionModel: the YAML -> nn.Sequential parse of ultralytics 8.x, same attribute layout.

The model keeps its architecture in `self.yaml` (the YAML dict plus "scale", "yaml_file"
and "ch"; "nc" replaced by the nc asked for), its layers in `self.model`, class names in
`self.names` ({index: name}) and `self.stride`. Those are what a checkpoint reader needs.

fuse() folds each Conv's BatchNorm into its conv as ultralytics' BaseModel.fuse() does (the
bn attribute is deleted and forward becomes forward_fuse); init_criterion() is the loss object
the trainer's validator leaves on the EMA as `criterion` (ultralytics.utils.loss).
"""
import logging
import math
import re
from copy import deepcopy
from pathlib import Path

import torch
import torch.nn as nn
import yaml

from ultralytics.nn.modules import C2PSA, C3k2, C2f, C3, C3k, SPPF, Bottleneck, Concat, Conv, Detect, DWConv
from ultralytics.utils.loss import v8DetectionLoss
from ultralytics.utils.torch_utils import fuse_conv_and_bn

LOGGER = logging.getLogger("ultralytics")


def make_divisible(x, divisor):
    return math.ceil(x / divisor) * divisor


def yaml_model_load(path):
    """The YAML of yolov8n.yaml is yolov8.yaml at scale 'n' (ultralytics' naming rule)."""
    path = Path(path)
    unified = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", path.stem)  # yolov8n -> yolov8
    base = path.with_name(unified + path.suffix)
    with open(base if base.exists() else path) as f:
        d = yaml.safe_load(f)
    m = re.search(r"yolo[v]?\d+([nslmx])", path.stem)
    d["scale"] = m.group(1) if m else ""
    d["yaml_file"] = str(path)
    return d


def parse_model(d, ch):
    nc, scales = d["nc"], d.get("scales")
    depth, width, max_channels = d.get("depth_multiple", 1.0), d.get("width_multiple", 1.0), float("inf")
    if scales:
        scale = d.get("scale") or tuple(scales.keys())[0]
        depth, width, max_channels = scales[scale]
    else:
        scale = ""
    channels = [ch]
    layers, save, legacy = [], [], True
    names = {"Conv": Conv, "C2f": C2f, "C3k2": C3k2, "C3": C3, "C3k": C3k, "SPPF": SPPF, "C2PSA": C2PSA,
             "Bottleneck": Bottleneck, "Concat": Concat, "Detect": Detect, "nn.Upsample": nn.Upsample}
    for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):
        module = names[m]
        args = [nc if a == "nc" else None if a == "None" else a for a in args]  # as literal_eval does
        n = max(round(n * depth), 1) if n > 1 else n
        if module in (Conv, C2f, C3k2, C3, C3k, SPPF, C2PSA, Bottleneck):
            c1, c2 = channels[f], args[0]
            if c2 != nc:
                c2 = make_divisible(min(c2, max_channels) * width, 8)
            args = [c1, c2, *args[1:]]
            if module in (C2f, C3k2, C3, C3k, C2PSA):
                args.insert(2, n)
                n = 1
            if module is C3k2:
                legacy = False
                if scale in "mlx":
                    args[3] = True
        elif module is Concat:
            c2 = sum(channels[x] for x in f)
        elif module is Detect:
            args.append([channels[x] for x in f])
            Detect.legacy = legacy  # ultralytics sets it on the class before building the head
        else:
            c2 = channels[f]
        layer = nn.Sequential(*(module(*args) for _ in range(n))) if n > 1 else module(*args)
        layer.i, layer.f, layer.type = i, f, m
        layer.np = sum(p.numel() for p in layer.parameters())
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(layer)
        if i == 0:
            channels = []
        channels.append(c2)
    return nn.Sequential(*layers), sorted(save)


class BaseModel(nn.Module):
    def forward(self, x):
        outputs = []
        for m in self.model:
            if m.f != -1:
                x = outputs[m.f] if isinstance(m.f, int) else [x if j == -1 else outputs[j] for j in m.f]
            x = m(x)
            outputs.append(x if m.i in self.save else None)
        return x

    def fuse(self, verbose=True):
        """Folds every Conv's BatchNorm into its conv (in place) and returns the model."""
        if not self.is_fused():
            for m in self.model.modules():
                if isinstance(m, (Conv, DWConv)) and hasattr(m, "bn"):
                    m.conv = fuse_conv_and_bn(m.conv, m.bn)
                    delattr(m, "bn")
                    m.forward = m.forward_fuse  # an instance attribute, as in ultralytics
            self.info(verbose=verbose)
        return self

    def is_fused(self, thresh=10):
        """True when fewer than `thresh` normalization layers are left (ultralytics' test)."""
        norms = tuple(v for k, v in nn.__dict__.items() if "Norm" in k)
        return sum(isinstance(v, norms) for v in self.modules()) < thresh

    def info(self, detailed=False, verbose=True, imgsz=640):
        """A one-line summary on the 'ultralytics' logger (ultralytics prints a table there)."""
        if verbose:
            n_p = sum(p.numel() for p in self.parameters())
            LOGGER.info(f"{type(self).__name__} summary{' (fused)' if self.is_fused() else ''}: "
                        f"{len(list(self.modules()))} layers, {n_p} parameters")


class DetectionModel(BaseModel):
    def __init__(self, cfg="yolov8n.yaml", ch=3, nc=None):
        super().__init__()
        self.yaml = cfg if isinstance(cfg, dict) else yaml_model_load(cfg)
        ch = self.yaml["ch"] = self.yaml.get("ch", ch)
        if nc and nc != self.yaml["nc"]:
            self.yaml["nc"] = nc
        self.model, self.save = parse_model(deepcopy(self.yaml), ch=ch)
        self.names = {i: f"{i}" for i in range(self.yaml["nc"])}
        self.inplace = self.yaml.get("inplace", True)
        self.end2end = False
        head = self.model[-1]
        s = 256
        head.inplace = self.inplace
        with torch.no_grad():
            head.stride = torch.tensor([s / x.shape[-2] for x in self.forward(torch.zeros(1, ch, s, s))])
        self.stride = head.stride
        for m in self.modules():  # ultralytics' initialize_weights
            if isinstance(m, nn.BatchNorm2d):
                m.eps = 1e-3
                m.momentum = 0.03
            elif isinstance(m, nn.SiLU):
                m.inplace = True

    def init_criterion(self):
        """The loss BaseModel.loss() creates on first use and keeps as self.criterion."""
        return v8DetectionLoss(self)
