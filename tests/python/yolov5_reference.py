#!/usr/bin/python3
"""Independent plain-PyTorch reference of the ultralytics/yolov5 (v6.0+) model.

Written from the published architecture (not copied from ultralytics): the model is built
from the same YAML files PruneLab ships (resources/models/yolov5{n,s}.yaml) with yolov5's
parse rules, and its module attribute names give exactly the state_dict keys of a real
yolov5 checkpoint: model.0.conv.weight, model.0.bn.running_mean, model.2.m.0.cv1.conv.weight,
model.24.m.0.weight / .bias, model.24.anchors (a buffer, anchors in grid units [nl, na, 2]).

Writes, for --model NAME:
  NAME_state_dict.pt      plain torch.save(model.state_dict())
  NAME_input.npy          float32 [1, 3, S, S]
  NAME_output{0,1,2}.npy  eval-mode raw head output of each level, [1, na, ny, nx, nc + 5]
                          (the view/permute of yolov5's Detect, before the sigmoid)
  NAME_decoded.npy        eval-mode inference decode, [1, sum(na*ny*nx), nc + 5]
                          (xywh in pixels, objectness, class scores; yolov5's Detect `z`)
BatchNorm statistics and affine parameters are randomised (see randomise_bn) so that a
wrong BN (eps, order, key mapping) cannot pass; convolutions keep PyTorch's default init.
Run with Debian's /usr/bin/python3 (python3-torch, python3-yaml).
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bn_calibration import calibrate_bn  # noqa: E402

MODELS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'resources', 'models'))
STRIDES = (8, 16, 32)


def make_divisible(x, divisor=8):
    return math.ceil(x / divisor) * divisor


class Conv(nn.Module):
    """Conv2d (no bias) + BatchNorm2d + SiLU; padding k // 2 unless given."""

    def __init__(self, c1, c2, k=1, s=1, p=None, g=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, groups=g, bias=False)
        # yolov5 builds BatchNorm2d(c2) and then its initialize_weights() sets these.
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, e=0.5):
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(hidden, c2, 3, 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    """CSP bottleneck with three convs: cv3(cat(m(cv1(x)), cv2(x)))."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(c1, hidden, 1, 1)
        self.cv3 = Conv(2 * hidden, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, g, e=1.0) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained k x k stride-1 max pools."""

    def __init__(self, c1, c2, k=5):
        super().__init__()
        hidden = c1 // 2
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(hidden * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Concat(nn.Module):
    def __init__(self, dimension=1):
        super().__init__()
        self.d = dimension

    def forward(self, xs):
        return torch.cat(xs, self.d)


class Detect(nn.Module):
    """Anchor-based head: one 1x1 conv (with bias) per level.

    forward() returns the raw per-level outputs [bs, na, ny, nx, no]; decode() turns them
    into yolov5's inference predictions.
    """

    def __init__(self, nc, anchors, ch, strides):
        super().__init__()
        self.nc = nc
        self.no = nc + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        self.stride = torch.tensor(strides, dtype=torch.float32)
        a = torch.tensor(anchors, dtype=torch.float32).view(self.nl, -1, 2)
        # yolov5 registers the pixel anchors and its Model divides them by the strides.
        self.register_buffer('anchors', a / self.stride.view(-1, 1, 1))
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in ch)

    def forward(self, xs):
        out = []
        for i, x in enumerate(xs):
            y = self.m[i](x)
            bs, _, ny, nx = y.shape
            out.append(y.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous())
        return out

    def decode(self, raw):
        z = []
        for i, x in enumerate(raw):
            bs, na, ny, nx, no = x.shape
            s = float(self.stride[i])
            yv, xv = torch.meshgrid(torch.arange(ny, dtype=x.dtype), torch.arange(nx, dtype=x.dtype), indexing='ij')
            grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2) - 0.5
            anchor_grid = (self.anchors[i] * s).view(1, na, 1, 1, 2)
            y = x.sigmoid()
            xy = (y[..., 0:2] * 2 + grid) * s
            wh = (y[..., 2:4] * 2) ** 2 * anchor_grid
            z.append(torch.cat((xy, wh, y[..., 4:]), -1).view(bs, na * ny * nx, no))
        return torch.cat(z, 1)


def _arg(v, cfg):
    """YAML args as yolov5 evaluates them: 'nc', 'anchors', 'None', 'nearest', 'False'..."""
    if isinstance(v, str):
        if v in cfg:
            return cfg[v]
        return {'None': None, 'True': True, 'False': False}.get(v, v)
    return v


def build_layers(cfg, nc, ch_in=3):
    """yolov5's parse_model for the modules the v5 YAMLs use."""
    gd, gw = cfg['depth_multiple'], cfg['width_multiple']
    anchors = cfg['anchors']
    na = len(anchors[0]) // 2
    no = na * (nc + 5)
    env = dict(cfg, nc=nc)
    layers, ch, save = [], [ch_in], set()
    for i, (f, n, name, args) in enumerate(cfg['backbone'] + cfg['head']):
        args = [_arg(a, env) for a in args]
        n = max(round(n * gd), 1) if n > 1 else n
        if name in ('Conv', 'C3', 'SPPF', 'Bottleneck'):
            c1, c2 = ch[f], args[0]
            if c2 != no:
                c2 = make_divisible(c2 * gw, 8)
            args = [c1, c2, *args[1:]]
            if name == 'C3':
                args.insert(2, n)
                n = 1
        elif name == 'Concat':
            c2 = sum(ch[x] for x in f)
        elif name == 'Detect':
            args.append([ch[x] for x in f])
            c2 = None
        else:
            c2 = ch[f]
        cls = {'Conv': Conv, 'C3': C3, 'SPPF': SPPF, 'Bottleneck': Bottleneck, 'Concat': Concat,
               'nn.Upsample': nn.Upsample}.get(name)
        if name == 'Detect':
            m = Detect(args[0], args[1], args[2], STRIDES)
        elif cls is None:
            raise ValueError('layer %d: unsupported module %s' % (i, name))
        else:
            m = nn.Sequential(*(cls(*args) for _ in range(n))) if n > 1 else cls(*args)
        m.i, m.f = i, f
        save.update(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)


class YoloV5(nn.Module):
    def __init__(self, cfg, nc):
        super().__init__()
        self.model, self.save = build_layers(cfg, nc)

    def forward(self, x):
        y = []
        for m in self.model:
            if m.f != -1:
                x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
            x = m(x)
            y.append(x if m.i in self.save else None)
        return x  # Detect's raw level outputs


def randomise_bn(model, gen, x):
    """Random BatchNorm statistics and affine parameters, scaled like a trained network's.

    Statistics drawn independently of the data (e.g. mean N(0, 0.2), var U(0.5, 2)) with
    PyTorch's default conv init leave the deep levels almost independent of the input:
    the outputs are then dominated by the BN offsets and a parity test on them checks
    little. Instead every BN is calibrated on `x` in forward order (a pre-hook sees the
    input the BN actually gets) and then perturbed per channel:
      running_mean = mean + N(0, 0.2) * sd,   running_var = GAIN * v * U(0.5, 2),
      weight U(0.5, 1.5),  bias N(0, 0.1),    v = var + 0.1 * mean_c(var), sd = sqrt(v).
    GAIN = 16 (BN outputs ~1/4 of unit scale) keeps the net out of the chaotic regime in
    which float32 rounding grows past the tolerance: measured on yolov5n@160 and
    yolov5s@128, float32 vs float64 differ by <= 4e-6, while using BN eps 1e-5 instead of
    1e-3 changes the outputs by ~0.3 and a 1 % input change moves every level by ~0.01.
    """
    GAIN = 16.0
    calibrate_bn(model, gen, x, GAIN)
    model.eval()


def build_model(model, nc):
    """The YoloV5 model of a shipped config name (resources/models) or a .yaml path."""
    path = model if model.endswith(('.yaml', '.yml')) else os.path.join(MODELS_DIR, model + '.yaml')
    with open(path) as f:
        return YoloV5(yaml.safe_load(f), nc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--model', default='yolov5n', help='name of a YAML in resources/models, or a .yaml path')
    ap.add_argument('--nc', type=int, default=80)
    ap.add_argument('--size', type=int, default=160)
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    if args.size % 32:
        ap.error('--size must be a multiple of 32')

    path = args.model if args.model.endswith(('.yaml', '.yml')) else os.path.join(MODELS_DIR, args.model + '.yaml')
    name = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        cfg = yaml.safe_load(f)
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(args.seed)  # default conv init
    gen = torch.Generator().manual_seed(args.seed + 1234)
    model = YoloV5(cfg, args.nc)
    x = torch.randn(1, 3, args.size, args.size, generator=gen)
    randomise_bn(model, gen, x)
    model.eval()
    with torch.no_grad():
        raw = model(x)
        decoded = model.model[-1].decode(raw)
        raw_zero = model(torch.zeros_like(x))
        decoded_zero = model.model[-1].decode(raw_zero)

    torch.save(model.state_dict(), os.path.join(args.out, name + '_state_dict.pt'))
    np.save(os.path.join(args.out, name + '_input.npy'), x.numpy().astype(np.float32))
    for i, r in enumerate(raw):
        np.save(os.path.join(args.out, '%s_output%d.npy' % (name, i)), r.numpy().astype(np.float32))
    np.save(os.path.join(args.out, name + '_decoded.npy'), decoded.numpy().astype(np.float32))
    # The same for an all-zero input: the test requires the outputs to depend on the input.
    for i, r in enumerate(raw_zero):
        np.save(os.path.join(args.out, '%s_zero_output%d.npy' % (name, i)), r.numpy().astype(np.float32))
    np.save(os.path.join(args.out, name + '_zero_decoded.npy'), decoded_zero.numpy().astype(np.float32))
    params = sum(p.numel() for p in model.parameters())
    print('%s (nc %d, %dx%d, %d params): reference written to %s' % (name, args.nc, args.size, args.size, params, args.out))


if __name__ == '__main__':
    main()
