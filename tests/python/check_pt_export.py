#!/usr/bin/python3
"""Independent checks of `prunelab-cli export --format yolov5|ultralytics|torch`: the pruned
model written as a torch.save() file that the user's own framework loads (pickled module
objects with pruned tensors and updated width attributes). Debian's /usr/bin/python3 only
(python3-torch 1.13, torchvision, numpy, onnx, opencv, yaml).

  check_pt_export.py yolov5 --weights PT --input X.npy --expected-prefix P
                            [--yolov5 DIR] --data-dir D --work W [--no-pruned-by]
                            [--require-yaml] [--train-epoch]
      With yolov5's own code (a v7.0 checkout: --yolov5 DIR or $PRUNELAB_YOLOV5_DIR; absent:
      "SKIP: ..." and exit 77): the checkpoint dict and width attributes (below); the raw
      levels of ckpt['model'].float().eval() (eval Detect returns (decoded, levels)) equal
      P0.npy, P1.npy, P2.npy (further PN.npy, e.g. other graph outputs, are not compared);
      yolov5's val.py, detect.py and export.py --include onnx run on a copy of the file in W
      (each a subprocess through yolov5_run.py) and exit 0 without a traceback or a "...
      failure" warning, and the .onnx passes onnx.checker; how many tensors yolov5's own
      `train.py --weights` would keep (it rebuilds Model(ckpt['model'].yaml) and copies
      same-shape tensors only): all of them and the rebuilt model computing the same, or a
      WARN (a FAIL with --require-yaml, for plans made with prune --yaml-widths); then
      one fine-tune step as a user's script does it:
      ckpt['model'].float().train(), model.hyp = data/hyps/hyp.scratch-low.yaml (scaled as
      train.py scales it), utils.loss.ComputeLoss, one SGD step on two images of D's train
      split with their labels: finite loss and gradients, every parameter moves.
      With --train-epoch also yolov5's own train.py, one epoch on the copy in W (a
      subprocess through yolov5_run.py: `--weights <copy> --cfg '' --data <W's yaml>
      --epochs 1 --imgsz 64 --batch-size 2 --device cpu --workers 0 --noplots
      --noautoanchor`, run in W/runs/train): train_py_epoch exits 0 as above;
      train_py_transfer reads its "Transferred A/B items from ..." line (A == B, else a WARN,
      a FAIL with --require-yaml); train_py_params: the model in the run's weights/last.pt
      has as many parameters as the checkpoint's model (train.py rebuilt it from the yaml:
      a yaml that does not state the pruned widths gives the unpruned count, a FAIL).
      D is a YOLO-format dataset (prunelab-cli make-dataset fashion-det --out D: data.yaml
      in ultralytics form with `path: .`, images/{train,val}, labels/{train,val}); yolov5
      resolves a relative `path` against its own checkout, so a copy of D with a yolov5 data
      yaml (absolute path, nc, names) is made in W; when the model's nc differs from D's,
      the copy's labels are taken modulo nc (val.py asserts the model was trained on --data's
      nc). Everything yolov5 writes (runs/, label caches, the .onnx, its settings) goes to W.
  check_pt_export.py ultralytics --weights PT --input X.npy --expected-prefix P [--no-pruned-by]
      With tests/python/ultralytics_tree (the stand-in ultralytics package) first on sys.path:
      checkpoint dict and widths; (ckpt['ema'] or ckpt['model']).float().eval()'s raw levels
      [1, 4*reg_max+nc, ny, nx] equal P{i}.npy; for every C2f/C3k2, forward and forward_split
      agree on the input it got in a model forward (captured with forward hooks); the yaml
      rebuild as for yolov5 (DetectionModel(ckpt['model'].yaml)); and
      model.fuse()'s outputs equal the unfused ones within 1e-4. Where the stand-in has no
      forward_split / fuse, that check is reported as "WARN ... not in the stand-in".
  check_pt_export.py torch --weights PT --input X.npy --expected Y.npy [--class MODULE.CLASS]
      torch.load(PT) is an nn.Module of the class given (default
      torchvision.models.resnet.ResNet), or a checkpoint dict whose 'ema' or else 'model' is
      (then the dict is checked as below, without names); widths; model.eval()(X) equals Y.npy.

Common checks. yolov5/ultralytics: the checkpoint is a dict with epoch, model, ema (None for
yolov5; None or a module for ultralytics), optimizer (None), names (the dict's or the
model's), date, version and pruned_by (a dict with at least 'version'; --no-pruned-by makes
both optional, for files written by the frameworks themselves: yolov5's train.py writes no
'version'). Every mode: every Conv's
in_channels/out_channels/groups/kernel_size match its weight ([out, in/groups, *k]), every
BatchNorm's num_features its weight/bias/running stats, every Linear's in/out_features its
weight, GroupNorm/LayerNorm likewise; and the framework-specific width attributes (yolov5
Detect no/na/nl/anchors, model.nc; ultralytics C2f.c, C2PSA.c, Attention heads, Detect
no/reg_max, ...). Every mismatch is reported by module name. These catch a writer that
sliced the tensors but left the widths stale: forward still runs (it reads only the
tensors), but yolov5's and ultralytics' fuse_conv_and_bn build the fused conv from the
attributes and break, and so does anything else that rebuilds a layer from them.

Outputs compare as max|a-b| / max(1, max|b|) <= 1e-5 (fuse: 1e-4). Prints one line per check
(PASS/FAIL/WARN name: detail, with its time), then RESULT. Exit 0: all passed; 1: a check
failed; 77 with "SKIP: <reason>": the yolov5 source is needed and absent.
"""
import argparse
import contextlib
import glob
import math
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from copy import deepcopy

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
TOL = 1e-5
FUSE_TOL = 1e-4


class Report:
    def __init__(self):
        self.failed = []
        self.t0 = time.time()

    def _line(self, status, name, detail, t):
        print(f"{status} {name}: {detail}" + (f" ({t:.1f} s)" if t is not None else ""), flush=True)

    def ok(self, name, detail="", t=None):
        self._line("PASS", name, detail, t)

    def fail(self, name, detail, t=None):
        self.failed.append(name)
        self._line("FAIL", name, detail, t)

    def warn(self, name, detail):
        self._line("WARN", name, detail, None)

    @contextlib.contextmanager
    def step(self, name):
        """Runs a check; an exception in it is that check's failure (with the traceback's tail)."""
        t = time.time()
        state = {"t": t}
        try:
            yield state
        except Exception as e:  # noqa: BLE001 - any error of the code under test is the finding
            frames = traceback.extract_tb(e.__traceback__)[-6:]
            where = "\n    ".join(f"{f.filename}:{f.lineno} in {f.name}: {f.line}" for f in frames)
            msg = str(e).strip().splitlines()
            self.fail(name, f"{type(e).__name__}: {msg[0] if msg else ''}\n    {where}", time.time() - t)

    def finish(self):
        total = time.time() - self.t0
        if self.failed:
            print(f"RESULT: FAILED ({len(self.failed)} checks: {', '.join(self.failed)}) in {total:.1f} s", flush=True)
            return 1
        print(f"RESULT: ok in {total:.1f} s", flush=True)
        return 0


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(1.0, float(np.abs(b).max()))) if b.size else 0.0


def compare_levels(rep, name, outs, prefix, tol=TOL):
    """outs[i] against PREFIX{i}.npy for each of the model's levels. Further PREFIX{n}.npy files
    (e.g. more graph outputs written by `prunelab-cli infer --output-dir`) are not compared."""
    files = [f"{prefix}{i}.npy" for i in range(len(outs))]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        rep.fail(name, f"the model has {len(outs)} output levels; expected files missing: {missing}")
        return
    extra = 0
    while os.path.isfile(f"{prefix}{len(outs) + extra}.npy"):
        extra += 1
    diffs, bad = [], []
    for i, (o, f) in enumerate(zip(outs, files)):
        ref = np.load(f)
        o = o.detach().float().numpy()
        if o.shape != ref.shape:
            bad.append(f"level {i}: shape {list(o.shape)} vs expected {list(ref.shape)}")
            continue
        d = rel_diff(o, ref)
        diffs.append(d)
        if not np.isfinite(d) or d > tol:
            bad.append(f"level {i}: max relative diff {d:.3g} > {tol:g}")
    detail = "max relative diff per level " + ", ".join(f"{d:.3g}" for d in diffs)
    if extra:
        detail += f" ({extra} further {prefix}N.npy not compared)"
    if bad:
        rep.fail(name, "; ".join(bad) + " (" + detail + ")")
    else:
        rep.ok(name, detail)


# ---------------------------------------------------------------- width attributes

def width_mismatches(model):
    """Every module whose width attributes disagree with its tensors, by name."""
    import torch.nn as nn
    out = []
    for name, m in model.named_modules():
        name = name or "<root>"
        w = getattr(m, "weight", None)
        if isinstance(m, nn.modules.conv._ConvNd):
            if w is None:
                out.append(f"{name}: {type(m).__name__} without weight")
                continue
            g = m.groups
            if m.in_channels % g or m.out_channels % g:
                out.append(f"{name}: in_channels {m.in_channels} / out_channels {m.out_channels} not divisible "
                           f"by groups {g}")
            want = ((m.in_channels, m.out_channels // g) if m.transposed else (m.out_channels, m.in_channels // g))
            want = want + tuple(m.kernel_size)
            if tuple(w.shape) != want:
                out.append(f"{name}: {type(m).__name__}(in_channels={m.in_channels}, out_channels={m.out_channels}, "
                           f"groups={g}, kernel_size={tuple(m.kernel_size)}) but weight {list(w.shape)} "
                           f"(expected {list(want)})")
            b = getattr(m, "bias", None)
            if b is not None and tuple(b.shape) != (m.out_channels,):
                out.append(f"{name}: out_channels {m.out_channels} but bias {list(b.shape)}")
        elif isinstance(m, nn.modules.batchnorm._NormBase):
            n = m.num_features
            for t in ("weight", "bias", "running_mean", "running_var"):
                v = getattr(m, t, None)
                if v is not None and tuple(v.shape) != (n,):
                    out.append(f"{name}: {type(m).__name__}(num_features={n}) but {t} {list(v.shape)}")
        elif isinstance(m, nn.Linear):
            if w is None or tuple(w.shape) != (m.out_features, m.in_features):
                out.append(f"{name}: Linear(in_features={m.in_features}, out_features={m.out_features}) but weight "
                           f"{None if w is None else list(w.shape)}")
            b = getattr(m, "bias", None)
            if b is not None and tuple(b.shape) != (m.out_features,):
                out.append(f"{name}: out_features {m.out_features} but bias {list(b.shape)}")
        elif isinstance(m, nn.GroupNorm):
            if m.num_channels % m.num_groups:
                out.append(f"{name}: num_channels {m.num_channels} not divisible by num_groups {m.num_groups}")
            for t in ("weight", "bias"):
                v = getattr(m, t, None)
                if v is not None and tuple(v.shape) != (m.num_channels,):
                    out.append(f"{name}: GroupNorm(num_channels={m.num_channels}) but {t} {list(v.shape)}")
        elif isinstance(m, nn.LayerNorm):
            for t in ("weight", "bias"):
                v = getattr(m, t, None)
                if v is not None and tuple(v.shape) != tuple(m.normalized_shape):
                    out.append(f"{name}: LayerNorm(normalized_shape={tuple(m.normalized_shape)}) but {t} "
                               f"{list(v.shape)}")
    return out


def _out(conv_like):
    """out_channels of a Conv wrapper (conv.conv) or an nn.Conv2d, from the weight."""
    c = getattr(conv_like, "conv", conv_like)
    return int(c.weight.shape[0])


def _in(conv_like):
    c = getattr(conv_like, "conv", conv_like)
    return int(c.weight.shape[1]) * int(c.groups)


def yolov5_mismatches(model):
    """yolov5's own width attributes: Detect no/na/nl/anchors/m, model nc/names/stride/yaml."""
    import torch
    out = []
    det = model.model[-1]
    if type(det).__name__ not in ("Detect", "Segment"):
        return [f"model.model[-1] is {type(det).__name__}, not Detect"]
    nm = getattr(det, "nm", 0) if type(det).__name__ == "Segment" else 0
    if det.no != det.nc + 5 + nm:
        out.append(f"Detect.no {det.no} != nc {det.nc} + 5" + (f" + nm {nm}" if nm else ""))
    if len(det.m) != det.nl:
        out.append(f"Detect.nl {det.nl} but {len(det.m)} output convs")
    if tuple(det.anchors.shape) != (det.nl, det.na, 2):
        out.append(f"Detect.anchors {list(det.anchors.shape)} but nl {det.nl}, na {det.na}")
    for i, c in enumerate(det.m):
        if _out(c) != det.na * det.no:
            out.append(f"Detect.m.{i}: {_out(c)} outputs, na*no = {det.na * det.no}")
    stride = getattr(det, "stride", None)
    if not torch.is_tensor(stride) or len(stride) != det.nl:
        out.append(f"Detect.stride {stride!r} (needs a tensor of nl={det.nl} strides)")
    if "anchors" not in dict(det.named_buffers()):
        out.append("Detect.anchors is not a registered buffer (.float()/.to() would not convert it; "
                   "ComputeLoss and _make_grid read it)")
    for a in ("grid", "anchor_grid"):
        v = getattr(det, a, None)
        if not isinstance(v, list) or len(v) != det.nl:
            out.append(f"Detect.{a} must be a list of nl={det.nl} tensors (yolov5's _apply maps it), "
                       f"got {type(v).__name__}")
    if not hasattr(det, "inplace"):
        out.append("Detect.inplace missing (Detect.forward and attempt_load read it)")
    nc = getattr(model, "nc", None)
    if nc is None:
        out.append("model.nc missing (train.py sets it; val.py asserts model.nc == the data's nc)")
    elif nc != det.nc:
        out.append(f"model.nc {nc} != Detect.nc {det.nc}")
    names = getattr(model, "names", None)
    if names is None or len(names) != det.nc:
        out.append(f"model.names has {None if names is None else len(names)} entries, Detect.nc {det.nc}")
    if not torch.is_tensor(getattr(model, "stride", None)):
        out.append(f"model.stride {getattr(model, 'stride', None)!r} is not a tensor (DetectMultiBackend: "
                   "model.stride.max())")
    y = getattr(model, "yaml", None)
    if not isinstance(y, dict):
        out.append(f"model.yaml is {type(y).__name__}, not the model dict")
    elif y.get("nc") != det.nc:
        out.append(f"model.yaml nc {y.get('nc')} != Detect.nc {det.nc}")
    for i, layer in enumerate(model.model):
        for a in ("f", "i", "type"):
            if not hasattr(layer, a):
                out.append(f"model.model.{i}: attribute {a} missing (BaseModel._forward_once reads it)")
    return out


def ultralytics_mismatches(model):
    """The stand-in's (= ultralytics') width attributes that forward/forward_split/fuse read."""
    import torch
    out = []
    for name, m in model.named_modules():
        t = type(m).__name__
        if t in ("C2f", "C3k2"):
            if 2 * m.c != _out(m.cv1):
                out.append(f"{name}: {t}.c {m.c} but cv1 has {_out(m.cv1)} outputs (2*c)")
            # forward concatenates both halves and every block's output, whose width the
            # pruning may have changed (a block without shortcut is not tied to c)
            cat = 2 * m.c + sum(_out(b.cv3 if hasattr(b, "cv3") else b.cv2) for b in m.m)
            if _in(m.cv2) != cat:
                out.append(f"{name}: {t}.c {m.c}, {len(m.m)} blocks but cv2 has {_in(m.cv2)} inputs "
                           f"(2*c + the blocks' outputs = {cat})")
        elif t == "C2PSA":
            if 2 * m.c != _out(m.cv1):
                out.append(f"{name}: C2PSA.c {m.c} but cv1 has {_out(m.cv1)} outputs (2*c)")
            if _in(m.cv2) != 2 * m.c:
                out.append(f"{name}: C2PSA.c {m.c} but cv2 has {_in(m.cv2)} inputs (2*c)")
        elif t == "Attention":
            dim = m.num_heads * m.head_dim
            if _in(m.qkv) != dim or _out(m.proj) != dim:
                out.append(f"{name}: num_heads {m.num_heads} * head_dim {m.head_dim} = {dim}, but qkv takes "
                           f"{_in(m.qkv)} and proj gives {_out(m.proj)}")
            if _out(m.qkv) != dim + 2 * m.key_dim * m.num_heads:
                out.append(f"{name}: qkv gives {_out(m.qkv)}, dim + 2*key_dim*num_heads = "
                           f"{dim + 2 * m.key_dim * m.num_heads}")
            if not math.isclose(m.scale, m.key_dim ** -0.5, rel_tol=1e-6):
                out.append(f"{name}: scale {m.scale} != key_dim {m.key_dim} ** -0.5")
        elif t == "DFL":
            if _in(m.conv) != m.c1:
                out.append(f"{name}: DFL.c1 {m.c1} but conv takes {_in(m.conv)}")
        elif t == "Detect":
            if m.no != m.nc + 4 * m.reg_max:
                out.append(f"{name}: Detect.no {m.no} != nc {m.nc} + 4*reg_max {m.reg_max}")
            if len(m.cv2) != m.nl or len(m.cv3) != m.nl:
                out.append(f"{name}: Detect.nl {m.nl} but {len(m.cv2)}/{len(m.cv3)} box/class branches")
            for i in range(min(len(m.cv2), len(m.cv3))):
                if _out(m.cv2[i][-1]) != 4 * m.reg_max:
                    out.append(f"{name}.cv2.{i}: {_out(m.cv2[i][-1])} box outputs, 4*reg_max = {4 * m.reg_max}")
                if _out(m.cv3[i][-1]) != m.nc:
                    out.append(f"{name}.cv3.{i}: {_out(m.cv3[i][-1])} class outputs, nc = {m.nc}")
            if not torch.is_tensor(getattr(m, "stride", None)) or len(m.stride) != m.nl:
                out.append(f"{name}: Detect.stride {getattr(m, 'stride', None)!r} (needs a tensor of nl={m.nl})")
    det = model.model[-1]
    nc = getattr(model, "nc", None)
    if nc is not None and nc != det.nc:
        out.append(f"model.nc {nc} != Detect.nc {det.nc}")
    names = getattr(model, "names", None)
    if names is None or len(names) != det.nc:
        out.append(f"model.names has {None if names is None else len(names)} entries, Detect.nc {det.nc}")
    y = getattr(model, "yaml", None)
    if not isinstance(y, dict):
        out.append(f"model.yaml is {type(y).__name__}, not the model dict")
    elif y.get("nc") != det.nc:
        out.append(f"model.yaml nc {y.get('nc')} != Detect.nc {det.nc}")
    return out


def check_widths(rep, model, framework_check=None):
    with rep.step("widths"):
        t = time.time()
        bad = width_mismatches(model)
        n = sum(1 for _ in model.modules())
        if bad:
            mods = len({b.split(":")[0] for b in bad})
            rep.fail("widths", f"{mods} modules whose width attributes disagree with their tensors:\n    "
                     + "\n    ".join(bad), time.time() - t)
        else:
            rep.ok("widths", f"{n} modules: Conv/BatchNorm/Linear attributes match their tensors", time.time() - t)
    if framework_check:
        with rep.step("framework_widths"):
            bad = framework_check(model)
            if bad:
                rep.fail("framework_widths", f"{len(bad)} mismatches:\n    " + "\n    ".join(bad))
            else:
                rep.ok("framework_widths", "head/block width attributes consistent")


def stale_param_counts(model):
    """yolov5/ultralytics layers carry np (their parameter count, printed by model summaries)."""
    stale = []
    for i, layer in enumerate(getattr(model, "model", [])):
        n = getattr(layer, "np", None)
        if n is not None and n != sum(p.numel() for p in layer.parameters()):
            stale.append(f"model.{i}.np {n} != {sum(p.numel() for p in layer.parameters())}")
    return stale


def check_ckpt_dict(rep, ckpt, framework, require_pruned_by):
    import torch.nn as nn
    with rep.step("checkpoint_dict"):
        if not isinstance(ckpt, dict):
            rep.fail("checkpoint_dict", f"torch.load returned {type(ckpt).__name__}, not the checkpoint dict")
            return False
        bad = []
        for k in ("epoch", "model", "ema", "optimizer", "date", "version"):
            if k == "version" and not require_pruned_by:
                continue  # yolov5's train.py writes no 'version'
            if k not in ckpt:
                bad.append(f"key '{k}' missing")
        if not isinstance(ckpt.get("model"), nn.Module):
            bad.append(f"'model' is {type(ckpt.get('model')).__name__}, not an nn.Module")
        ema = ckpt.get("ema", "absent")
        if framework == "yolov5" and ema is not None and ema != "absent":
            bad.append(f"'ema' is {type(ema).__name__}, must be None for yolov5 (attempt_load prefers ema)")
        if framework in ("ultralytics", "torch") and not (ema is None or isinstance(ema, nn.Module)):
            bad.append(f"'ema' is {type(ema).__name__}, must be None or the model")
        if ckpt.get("optimizer", "absent") is not None and "optimizer" in ckpt:
            bad.append(f"'optimizer' is {type(ckpt['optimizer']).__name__}, must be None")
        names = ckpt.get("names", getattr(ckpt.get("model"), "names", None))
        if framework != "torch" and not names:
            bad.append("no class names (neither ckpt['names'] nor model.names)")
        pb = ckpt.get("pruned_by")
        if require_pruned_by:
            if not isinstance(pb, dict) or "version" not in pb:
                bad.append(f"'pruned_by' must be a dict with 'version', got {pb!r}")
        elif pb is not None and (not isinstance(pb, dict) or "version" not in pb):
            bad.append(f"'pruned_by' present but not a dict with 'version': {pb!r}")
        if bad:
            rep.fail("checkpoint_dict", "; ".join(bad))
        else:
            rep.ok("checkpoint_dict", f"keys {sorted(ckpt)}; pruned_by {pb}")
    return True


def load_input(path):
    import torch
    return torch.from_numpy(np.load(path)).float()


# ---------------------------------------------------------------- yolov5

def is_yolov5(d):
    return bool(d) and all(os.path.isfile(os.path.join(d, *f)) for f in (("models", "yolo.py"), ("val.py",)))


def read_dataset(data_dir):
    """(train images dir, val images dir, names list) of a YOLO-format dataset directory."""
    import yaml
    names, train, val = None, None, None
    y = os.path.join(data_dir, "data.yaml")
    if os.path.isfile(y):
        with open(y) as f:
            d = yaml.safe_load(f) or {}
        base = d.get("path") or "."
        base = base if os.path.isabs(base) else os.path.normpath(os.path.join(data_dir, base))
        names = d.get("names")
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        if names is None and "nc" in d:
            names = [f"class{i}" for i in range(int(d["nc"]))]
        train = os.path.join(base, d["train"]) if isinstance(d.get("train"), str) else None
        val = os.path.join(base, d["val"]) if isinstance(d.get("val"), str) else None
    train = train or os.path.join(data_dir, "images", "train")
    val = val or os.path.join(data_dir, "images", "val")
    return train, val, names


def label_file(image):
    sa, sb = os.sep + "images" + os.sep, os.sep + "labels" + os.sep
    return sb.join(image.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt"


def images_in(d):
    exts = (".jpg", ".jpeg", ".png", ".bmp")
    return sorted(f for f in glob.glob(os.path.join(d, "*")) if f.lower().endswith(exts))


def make_yolov5_dataset(data_dir, work, model_nc, model_names):
    """A copy of D in W/dataset with a yolov5 data yaml (absolute path); labels taken modulo the
    model's nc where D has more classes. Returns (yaml path, note)."""
    import yaml
    train, val, names = read_dataset(data_dir)
    for d in (train, val):
        if not images_in(d):
            raise RuntimeError(f"no images in {d}")
    root = os.path.join(work, "dataset")
    shutil.rmtree(root, ignore_errors=True)
    note = ""
    if names is None or len(names) != model_nc:
        note = (f"dataset has {None if names is None else len(names)} classes, the model {model_nc}: labels "
                f"taken modulo {model_nc}, names from the model")
        names = [model_names[i] for i in range(model_nc)] if isinstance(model_names, dict) else list(model_names)
    for split, src in (("train", train), ("val", val)):
        os.makedirs(os.path.join(root, "images", split))
        os.makedirs(os.path.join(root, "labels", split))
        for im in images_in(src):
            dst = os.path.join(root, "images", split, os.path.basename(im))
            shutil.copyfile(im, dst)
            lines = []
            lf = label_file(im)
            if os.path.isfile(lf):
                with open(lf) as f:
                    for line in f:
                        p = line.split()
                        if len(p) == 5:
                            lines.append(" ".join([str(int(float(p[0])) % model_nc)] + p[1:]))
            with open(label_file(dst), "w") as f:
                f.write("".join(x + "\n" for x in lines))
    y = os.path.join(work, "yolov5_data.yaml")
    with open(y, "w") as f:
        yaml.safe_dump({"path": os.path.abspath(root), "train": "images/train", "val": "images/val",
                        "nc": len(names), "names": {i: str(n) for i, n in enumerate(names)}}, f, sort_keys=False)
    return y, note


def run_yolov5_script(rep, name, yolov5, script, args, work, env, check=None):
    cmd = [sys.executable, os.path.join(HERE, "yolov5_run.py"), yolov5, script] + [str(a) for a in args]
    t = time.time()
    try:
        p = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        rep.fail(name, "timed out after 900 s: " + " ".join(cmd), time.time() - t)
        return None
    log = os.path.join(work, name + ".log")
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n--- stdout\n" + p.stdout + "\n--- stderr\n" + p.stderr)
    text = p.stdout + p.stderr
    tail = "\n    ".join(text.strip().splitlines()[-25:])
    if p.returncode != 0:
        rep.fail(name, f"exit {p.returncode} (log {log}); tail:\n    {tail}", time.time() - t)
        return None
    if "Traceback (most recent call last)" in text:  # e.g. a plotting thread that died
        rep.fail(name, f"exit 0 but a traceback was printed (log {log}); tail:\n    {tail}", time.time() - t)
        return None
    detail = check(text) if check else ""
    warnings = [line.strip() for line in text.splitlines() if "WARNING" in line]
    failures = [w for w in warnings if "fail" in w.lower()]  # e.g. TryExcept's "ConfusionMatrix plot failure"
    if failures:
        detail = "FAIL exit 0 but: " + "; ".join(failures[:5])
    elif warnings:
        detail = (detail or "exit 0") + f"; {len(warnings)} warnings, first: {warnings[0]}"
    if detail is not None and detail.startswith("FAIL"):
        rep.fail(name, detail[5:] + f" (log {log})", time.time() - t)
        return None
    rep.ok(name, (detail or "exit 0") + f" (log {log})", time.time() - t)
    return text


def finetune_step(rep, name, ckpt_model_loader, yolov5, data_dir, imgsz=64):
    """One training step with yolov5's ComputeLoss on the loaded model object, as a user's
    fine-tune script does (train.py's own --weights path rebuilds the model from its yaml)."""
    import cv2
    import torch
    import yaml
    from utils.loss import ComputeLoss  # yolov5's
    t = time.time()
    model = ckpt_model_loader().float().train()
    det = model.model[-1]
    nl, nc = det.nl, det.nc
    with open(os.path.join(yolov5, "data", "hyps", "hyp.scratch-low.yaml")) as f:
        hyp = yaml.safe_load(f)
    hyp["box"] *= 3 / nl  # as train.py scales them
    hyp["cls"] *= nc / 80 * 3 / nl
    hyp["obj"] *= (imgsz / 640) ** 2 * 3 / nl
    hyp["label_smoothing"] = 0.0
    model.hyp = hyp
    frozen = [k for k, v in model.named_parameters() if not v.requires_grad]
    for v in model.parameters():
        v.requires_grad = True  # train.py: train all layers
    train, _, _ = read_dataset(data_dir)
    ims, targets = [], []
    for i, im in enumerate(images_in(train)[:2]):
        img = cv2.imread(im)
        img = cv2.resize(img, (imgsz, imgsz))[:, :, ::-1].transpose(2, 0, 1)
        ims.append(torch.from_numpy(np.ascontiguousarray(img)).float() / 255)
        if os.path.isfile(label_file(im)):
            with open(label_file(im)) as f:
                for line in f:
                    p = line.split()
                    if len(p) == 5:
                        targets.append([i, int(float(p[0])) % nc] + [float(v) for v in p[1:]])
    if len(ims) < 2:
        raise RuntimeError(f"need 2 training images in {train}, found {len(ims)}")
    if not targets:
        targets = [[0, 0, 0.5, 0.5, 0.3, 0.4], [1, nc - 1, 0.3, 0.6, 0.2, 0.2]]
    x, tg = torch.stack(ims), torch.tensor(targets, dtype=torch.float32)
    compute_loss = ComputeLoss(model)
    opt = torch.optim.SGD(model.parameters(), lr=hyp["lr0"], momentum=hyp["momentum"], nesterov=True)
    params = dict(model.named_parameters())
    before = {k: p.detach().clone() for k, p in params.items()}
    bn_before = {k: b.detach().clone() for k, b in model.named_buffers() if k.endswith("running_mean")}
    opt.zero_grad()
    pred = model(x)
    loss, items = compute_loss(pred, tg)
    loss.backward()
    opt.step()
    lr = hyp["lr0"]
    no_grad = [k for k, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all()]
    visible = {k: bool(((lr * p.grad.abs()) > before[k].abs() * 2.0 ** -22).any())
               for k, p in params.items() if p.grad is not None}
    unchanged = [k for k, p in params.items() if visible.get(k, True) and torch.equal(p.detach(), before[k])]
    stale_bn = [k for k, b in model.named_buffers() if k in bn_before and torch.equal(b, bn_before[k])]
    problems = []
    if not torch.isfinite(loss).all():
        problems.append(f"loss {loss.tolist()} not finite")
    if no_grad:
        problems.append(f"{len(no_grad)} parameters without a finite gradient: {no_grad[:8]}")
    if unchanged:
        problems.append(f"{len(unchanged)} parameters unchanged by the step: {unchanged[:8]}")
    if stale_bn:
        problems.append(f"{len(stale_bn)} BatchNorms' running stats unchanged: {stale_bn[:8]}")
    detail = (f"loss {float(loss):.4f} (box/obj/cls {', '.join(f'{v:.4f}' for v in items.tolist())}) on "
              f"{len(targets)} targets; {len(params)} parameters moved"
              + (f"; {len(frozen)} had requires_grad=False in the file (train.py re-enables them)" if frozen else ""))
    if problems:
        rep.fail(name, "; ".join(problems) + f" ({detail})", time.time() - t)
    else:
        rep.ok(name, detail, time.time() - t)


def yaml_rebuild(rep, model, build, x, require):
    """What the stock trainers do with a checkpoint given as --weights: rebuild the model from
    ckpt['model'].yaml (yolov5's train.py: Model(cfg or ckpt['model'].yaml); ultralytics'
    trainer: get_model(cfg=model.yaml) + load) and copy every tensor whose name and shape agree.
    Reports how many transfer; when all do, the rebuilt model with them must compute what the
    checkpoint's model computes. With `require` a partial transfer fails (prune --yaml-widths
    promises a yaml that states every pruned width), else it is a WARN: a pruned model is then
    fine-tuned as the pickled object (finetune_step), not through a yaml rebuild."""
    import contextlib as cl
    import io
    import logging
    import torch
    t = time.time()
    logging.getLogger("yolov5").setLevel(logging.WARNING)
    with cl.redirect_stdout(io.StringIO()):
        fresh = build(deepcopy(model.yaml))
    logging.getLogger("yolov5").setLevel(logging.INFO)
    csd = model.state_dict()
    fsd = fresh.state_dict()
    same = {k: v for k, v in csd.items() if k in fsd and v.shape == fsd[k].shape}
    n = len(fsd)
    detail = (f"a rebuild from the model's yaml (as train.py --weights / the ultralytics trainer do) takes "
              f"{len(same)}/{n} tensors")
    if len(same) < n:
        missing = [k for k in fsd if k not in same][:3]
        msg = detail + f" (not: {', '.join(missing)})"
        if require:
            rep.fail("yaml_rebuild", msg, time.time() - t)
        else:
            rep.warn("yaml_rebuild", msg + "; the pruned layers would be re-initialised: fine-tune the model "
                     "object (as finetune_step does)")
        return
    fresh.load_state_dict(same, strict=True)
    fresh.float().eval()
    with torch.no_grad():
        a, b = raw_levels(fresh(x)), raw_levels(model(x))
    d = max(rel_diff(p.numpy(), q.numpy()) for p, q in zip(a, b))
    params = sum(p.numel() for p in fresh.parameters())
    if not d <= TOL:
        rep.fail("yaml_rebuild", detail + f"; rebuilt model differs by {d:.3g}", time.time() - t)
    else:
        rep.ok("yaml_rebuild", detail + f"; {params} parameters; outputs equal the checkpoint's (max relative "
               f"diff {d:.3g})", time.time() - t)


def cmd_yolov5(a):
    yolov5 = a.yolov5 or os.environ.get("PRUNELAB_YOLOV5_DIR", "")
    if not is_yolov5(yolov5):
        print("SKIP: no yolov5 source (give --yolov5 DIR or set PRUNELAB_YOLOV5_DIR to a yolov5 v7.0 checkout)"
              + (f"; {yolov5} is not one" if yolov5 else ""), flush=True)
        return SKIP
    yolov5 = os.path.abspath(yolov5)
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    config = os.path.join(work, "yolov5_config")
    os.makedirs(config, exist_ok=True)
    # val.py's plot_images draws labels with Arial.ttf from the settings dir and downloads it
    # when missing: a local TrueType font under that name keeps it offline.
    for font in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        if os.path.isfile(font) and not os.path.isfile(os.path.join(config, "Arial.ttf")):
            shutil.copyfile(font, os.path.join(config, "Arial.ttf"))
    sys.path.insert(0, HERE)
    import yolov5_run
    env = yolov5_run.yolov5_env(config)
    os.environ.update({"YOLOv5_AUTOINSTALL": "false", "YOLOV5_CONFIG_DIR": config})
    stubbed = yolov5_run.install_stubs()
    print(f"yolov5 {yolov5}; stand-ins for missing packages: {', '.join(stubbed) or 'none'}", flush=True)
    sys.path.insert(0, yolov5)
    import torch
    rep = Report()

    ckpt = None
    with rep.step("torch_load"):
        t = time.time()
        import models.yolo  # noqa: F401 - yolov5's classes, for unpickling
        ckpt = torch.load(a.weights, map_location="cpu")
        rep.ok("torch_load", f"{type(ckpt).__name__} from {a.weights}", time.time() - t)
    if ckpt is None:
        return rep.finish()
    check_ckpt_dict(rep, ckpt, "yolov5", not a.no_pruned_by)
    model = ckpt.get("model") if isinstance(ckpt, dict) else None
    if model is None:
        return rep.finish()
    model = deepcopy(model).float().eval()
    check_widths(rep, model, yolov5_mismatches)
    stale = stale_param_counts(model)
    if stale:
        rep.warn("layer_np", f"{len(stale)} layers' np (parameter count in model summaries) stale: {stale[:5]}")
    with rep.step("outputs"):
        with torch.no_grad():
            out = model(load_input(a.input))
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], list)):
            raise RuntimeError(f"eval-mode model returned {type(out).__name__}, not (decoded, levels)")
        compare_levels(rep, "outputs", out[1], a.expected_prefix)

    nc = int(getattr(model, "nc", model.model[-1].nc))
    names = getattr(model, "names", None) or [str(i) for i in range(nc)]
    data_yaml = None
    with rep.step("dataset"):
        t = time.time()
        data_yaml, note = make_yolov5_dataset(a.data_dir, work, nc, names)
        rep.ok("dataset", f"{data_yaml}" + (f" ({note})" if note else ""), time.time() - t)

    wdir = os.path.join(work, "weights")
    os.makedirs(wdir, exist_ok=True)
    weights = os.path.join(wdir, os.path.basename(a.weights))
    if not weights.endswith(".pt"):
        weights += ".pt"
    shutil.copyfile(a.weights, weights)  # export.py writes next to the weights
    runs = os.path.join(work, "runs")
    if data_yaml:
        def val_result(text):
            for line in text.splitlines():
                if line.strip().startswith("all "):
                    return "exit 0; " + " ".join(line.split())
            return "FAIL exit 0 but no 'all ...' metrics line (did val.py validate any image?)"
        run_yolov5_script(rep, "yolov5_val", yolov5, "val.py",
                          ["--weights", weights, "--data", data_yaml, "--imgsz", 64, "--batch-size", 2, "--device",
                           "cpu", "--workers", 0, "--project", runs, "--name", "val", "--exist-ok"], work, env,
                          val_result)
        val_images = os.path.join(os.path.dirname(data_yaml), "dataset", "images", "val")

        def detect_result(text):
            n = sum(1 for line in text.splitlines() if line.startswith("image "))
            return f"exit 0; {n} images" if n else "FAIL exit 0 but no 'image ...' lines"
        run_yolov5_script(rep, "yolov5_detect", yolov5, "detect.py",
                          ["--weights", weights, "--source", val_images, "--imgsz", 64, "--device", "cpu",
                           "--project", runs, "--name", "detect", "--exist-ok"], work, env, detect_result)
    onnx_file = weights[:-3] + ".onnx"
    if os.path.exists(onnx_file):
        os.remove(onnx_file)
    if run_yolov5_script(rep, "yolov5_export", yolov5, "export.py",
                         ["--weights", weights, "--include", "onnx", "--imgsz", 64, "--device", "cpu"], work, env):
        with rep.step("onnx_checker"):
            import onnx
            if not os.path.isfile(onnx_file):
                raise RuntimeError(f"export.py exited 0 but wrote no {onnx_file}")
            m = onnx.load(onnx_file)
            onnx.checker.check_model(m, full_check=True)
            outs = [(o.name, [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim])
                    for o in m.graph.output]
            rep.ok("onnx_checker", f"{onnx_file}: {len(m.graph.node)} nodes, outputs {outs}")

    with rep.step("yaml_rebuild"):
        from models.yolo import Model
        yaml_rebuild(rep, model, lambda cfg: Model(cfg, ch=3, nc=model.model[-1].nc), load_input(a.input),
                     a.require_yaml)
    with rep.step("finetune_step"):
        finetune_step(rep, "finetune_step", lambda: torch.load(a.weights, map_location="cpu")["model"], yolov5,
                      os.path.join(work, "dataset") if data_yaml else a.data_dir)
    if a.train_epoch and data_yaml:
        train_py_epoch(rep, yolov5, weights, data_yaml, runs, work, env, model, a.require_yaml)
    return rep.finish()


def train_py_epoch(rep, yolov5, weights, data_yaml, runs, work, env, model, require):
    """yolov5's own train.py --weights on the checkpoint for one epoch (offline: no plots, so no
    plot_labels / TensorBoard graph; no AutoAnchor, which would need scipy), then how many
    tensors it transferred into Model(ckpt['model'].yaml) and the parameter count it trained."""
    import torch
    run_dir = os.path.join(runs, "train")
    shutil.rmtree(run_dir, ignore_errors=True)  # never read a previous run's last.pt
    text = run_yolov5_script(rep, "train_py_epoch", yolov5, "train.py",
                             ["--weights", weights, "--cfg", "", "--data", data_yaml, "--epochs", 1, "--imgsz", 64,
                              "--batch-size", 2, "--device", "cpu", "--workers", 0, "--noplots", "--noautoanchor",
                              "--project", runs, "--name", "train", "--exist-ok"], work, env)
    if text is None:
        return
    with rep.step("train_py_transfer"):
        m = re.search(r"Transferred (\d+)/(\d+) items from (\S+)", text)
        if not m:
            rep.fail("train_py_transfer", "train.py printed no 'Transferred A/B items from ...' line "
                     f"(log {os.path.join(work, 'train_py_epoch.log')})")
        else:
            got, total = int(m.group(1)), int(m.group(2))
            detail = (f"train.py transferred {got}/{total} tensors of the checkpoint into Model(ckpt['model'].yaml) "
                      f"from {m.group(3)}")
            if got == total:
                rep.ok("train_py_transfer", detail)
            elif require:
                rep.fail("train_py_transfer", detail + " (the rest re-initialised)")
            else:
                rep.warn("train_py_transfer", detail + "; the rest re-initialised: fine-tune the model object "
                         "(as finetune_step does), or prune with --yaml-widths")
    with rep.step("train_py_params"):
        t = time.time()
        last = os.path.join(run_dir, "weights", "last.pt")
        if not os.path.isfile(last):
            raise RuntimeError(f"train.py exited 0 but wrote no {last}")
        trained = torch.load(last, map_location="cpu")
        tm = (trained.get("ema") or trained.get("model")) if isinstance(trained, dict) else None
        if not isinstance(tm, torch.nn.Module):
            raise RuntimeError(f"{last} holds no model ({type(trained).__name__})")
        n_trained = sum(p.numel() for p in tm.parameters())
        n_ckpt = sum(p.numel() for p in model.parameters())
        detail = f"{last}: {n_trained} parameters, the checkpoint's model {n_ckpt}"
        if n_trained == n_ckpt:
            rep.ok("train_py_params", detail, time.time() - t)
        else:
            rep.fail("train_py_params", detail + " (train.py trained the model its yaml describes, not the pruned one)",
                     time.time() - t)


# ---------------------------------------------------------------- ultralytics

def cmd_ultralytics(a):
    sys.path.insert(0, os.path.join(HERE, "ultralytics_tree"))
    import torch
    rep = Report()
    ckpt = None
    with rep.step("torch_load"):
        t = time.time()
        import ultralytics  # noqa: F401 - the stand-in's classes, for unpickling
        ckpt = torch.load(a.weights, map_location="cpu")
        rep.ok("torch_load", f"{type(ckpt).__name__} from {a.weights} (ultralytics stand-in "
               f"{getattr(ultralytics, '__version__', '?')})", time.time() - t)
    if ckpt is None:
        return rep.finish()
    check_ckpt_dict(rep, ckpt, "ultralytics", not a.no_pruned_by)
    if not isinstance(ckpt, dict) or ckpt.get("model") is None:
        return rep.finish()
    if "train_args" not in ckpt:
        rep.warn("train_args", "no 'train_args' (ultralytics' attempt_load_one_weight builds model.args from it)")
    model = deepcopy(ckpt.get("ema") or ckpt["model"]).float().eval()
    check_widths(rep, model, ultralytics_mismatches)
    stale = stale_param_counts(model)
    if stale:
        rep.warn("layer_np", f"{len(stale)} layers' np (parameter count in model summaries) stale: {stale[:5]}")

    from ultralytics.nn.modules import C2f
    x = load_input(a.input)
    captured = {}

    def capture(name):
        def hook(module, inputs, output):  # returns None: the output is left as it is
            captured.setdefault(name, inputs[0].detach())
        return hook
    hooks = [m.register_forward_hook(capture(n)) for n, m in model.named_modules() if isinstance(m, C2f)]
    ref_levels = None
    with rep.step("outputs"):
        with torch.no_grad():
            out = model(x)
        ref_levels = raw_levels(out)
        compare_levels(rep, "outputs", ref_levels, a.expected_prefix)
    for h in hooks:
        h.remove()

    with rep.step("yaml_rebuild"):
        from ultralytics.nn.tasks import DetectionModel
        yaml_rebuild(rep, model, lambda cfg: DetectionModel(cfg, nc=cfg["nc"]), x, a.require_yaml)

    with rep.step("forward_split"):
        t = time.time()
        blocks = [(n, m) for n, m in model.named_modules() if isinstance(m, C2f)]
        if not blocks:
            rep.ok("forward_split", "no C2f/C3k2 blocks", time.time() - t)
        elif not hasattr(blocks[0][1], "forward_split"):
            rep.warn("forward_split", "C2f.forward_split not in the stand-in (tests/python/ultralytics_tree): "
                     "not checked")
        else:
            worst, bad = 0.0, []
            with torch.no_grad():
                for n, m in blocks:
                    if n not in captured:
                        bad.append(f"{n}: not run in the model forward")
                        continue
                    inp = captured[n]
                    d = rel_diff(m.forward_split(inp).numpy(), m.forward(inp).numpy())
                    worst = max(worst, d)
                    if not d <= TOL:
                        bad.append(f"{n} ({type(m).__name__}): forward_split vs forward max relative diff {d:.3g}")
            if bad:
                rep.fail("forward_split", "; ".join(bad), time.time() - t)
            else:
                rep.ok("forward_split", f"{len(blocks)} C2f/C3k2 blocks: forward_split == forward (max relative "
                       f"diff {worst:.3g})", time.time() - t)

    with rep.step("fuse"):
        t = time.time()
        if not hasattr(model, "fuse"):
            rep.warn("fuse", "DetectionModel.fuse not in the stand-in (tests/python/ultralytics_tree): not checked")
        elif ref_levels is not None:
            fused = deepcopy(model)
            r = fused.fuse()
            fused = r if isinstance(r, torch.nn.Module) else fused
            fused.eval()
            n_bn = sum(1 for m in fused.modules() if isinstance(m, torch.nn.BatchNorm2d))
            with torch.no_grad():
                levels = raw_levels(fused(x))
            diffs = [rel_diff(o.numpy(), r_.numpy()) for o, r_ in zip(levels, ref_levels)]
            bad = len(levels) != len(ref_levels) or any(not d <= FUSE_TOL for d in diffs)
            detail = (f"fused vs unfused max relative diff per level {', '.join(f'{d:.3g}' for d in diffs)}; "
                      f"{n_bn} BatchNorm2d left")
            if bad:
                rep.fail("fuse", detail + f" (tolerance {FUSE_TOL:g})", time.time() - t)
            else:
                rep.ok("fuse", detail, time.time() - t)
    return rep.finish()


def raw_levels(out):
    """Detect's per-level raw maps: a list in training form, (decoded, list) in eval form."""
    if isinstance(out, (list, tuple)) and len(out) == 2 and isinstance(out[1], (list, tuple)):
        return list(out[1])
    if isinstance(out, (list, tuple)) and all(hasattr(o, "shape") and o.dim() == 4 for o in out):
        return list(out)
    raise RuntimeError(f"cannot find the raw levels in the model output ({type(out).__name__})")


# ---------------------------------------------------------------- torch

def cmd_torch(a):
    import importlib
    import torch
    rep = Report()
    obj = None
    with rep.step("torch_load"):
        t = time.time()
        mod, _, cls = a.cls.rpartition(".")
        with contextlib.suppress(ImportError):
            importlib.import_module(mod)  # the class's module, for unpickling (torchvision for ResNet)
        obj = torch.load(a.weights, map_location="cpu")
        rep.ok("torch_load", f"{type(obj).__module__}.{type(obj).__qualname__} from {a.weights}", time.time() - t)
    if obj is None:
        return rep.finish()
    if isinstance(obj, dict):  # a trainer-style checkpoint around the module
        check_ckpt_dict(rep, obj, "torch", not a.no_pruned_by)
        obj = obj.get("ema") or obj.get("model")
    with rep.step("class"):
        got = f"{type(obj).__module__}.{type(obj).__qualname__}"
        if not isinstance(obj, torch.nn.Module):
            rep.fail("class", f"torch.load returned {got}, not an nn.Module")
            return rep.finish()
        if got != a.cls:
            rep.fail("class", f"{got}, expected {a.cls}")
        else:
            rep.ok("class", got)
    pb = getattr(obj, "pruned_by", None)
    if pb is not None and (not isinstance(pb, dict) or "version" not in pb):
        rep.fail("pruned_by", f"model.pruned_by present but not a dict with 'version': {pb!r}")
    model = obj.float().eval()
    check_widths(rep, model)
    with rep.step("outputs"):
        t = time.time()
        with torch.no_grad():
            y = model(load_input(a.input))
        outs = list(y) if isinstance(y, (list, tuple)) else [y]
        refs = [np.load(p) for p in a.expected]
        if len(outs) != len(refs):
            raise RuntimeError(f"{len(outs)} outputs, {len(refs)} expected")
        bad, diffs = [], []
        for i, (o, r) in enumerate(zip(outs, refs)):
            o = o.detach().numpy()
            if o.shape != r.shape:
                bad.append(f"output {i}: shape {list(o.shape)} vs expected {list(r.shape)}")
                continue
            diffs.append(rel_diff(o, r))
            if not diffs[-1] <= TOL:
                bad.append(f"output {i}: max relative diff {diffs[-1]:.3g} > {TOL:g}")
        detail = "max relative diff " + ", ".join(f"{d:.3g}" for d in diffs)
        if bad:
            rep.fail("outputs", "; ".join(bad) + f" ({detail})", time.time() - t)
        else:
            rep.ok("outputs", detail, time.time() - t)
    return rep.finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    y = sub.add_parser("yolov5", help="a yolov5 checkpoint, with yolov5's own code")
    u = sub.add_parser("ultralytics", help="an ultralytics checkpoint, with the stand-in tree")
    t = sub.add_parser("torch", help="a whole pickled nn.Module (torch.save(model))")
    for p in (y, u, t):
        p.add_argument("--weights", required=True)
        p.add_argument("--input", required=True, help="float32 .npy input")
        p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch default)")
    for p in (y, u):
        p.add_argument("--expected-prefix", required=True, help="PREFIX{0,1,2}.npy: the raw levels")
        p.add_argument("--no-pruned-by", action="store_true", help="pruned_by optional (frameworks' own files)")
        p.add_argument("--require-yaml", action="store_true",
                       help="fail unless a rebuild from the model's yaml takes every tensor (prune --yaml-widths)")
    y.add_argument("--yolov5", default="", help="yolov5 v7.0 checkout (default $PRUNELAB_YOLOV5_DIR)")
    y.add_argument("--data-dir", required=True, help="YOLO-format dataset (data.yaml, images/, labels/)")
    y.add_argument("--work", required=True, help="scratch directory for everything yolov5 writes")
    y.add_argument("--train-epoch", action="store_true",
                   help="also run yolov5's train.py --weights for one epoch on the dataset: its 'Transferred A/B' "
                        "must take every tensor (a WARN, a FAIL with --require-yaml) and the trained last.pt "
                        "must have the checkpoint model's parameter count")
    t.add_argument("--expected", required=True, nargs="+", help="expected output(s) .npy")
    t.add_argument("--no-pruned-by", action="store_true",
                   help="with a checkpoint dict: pruned_by and version optional")
    t.add_argument("--class", dest="cls", default="torchvision.models.resnet.ResNet",
                   help="module.qualname the loaded object must be")
    a = ap.parse_args()
    if a.threads > 0:
        import torch
        torch.set_num_threads(a.threads)
    sys.exit({"yolov5": cmd_yolov5, "ultralytics": cmd_ultralytics, "torch": cmd_torch}[a.mode](a))


if __name__ == "__main__":
    main()
