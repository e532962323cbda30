#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses that Python makes best (tests/fuzz/corpus/):
torch pickles and .pt files, ONNX files exported by PyTorch (the generic import path),
.npy, Fashion-MNIST IDX, YOLO labels, data.yaml, model YAML and ratio files. Small valid
files plus near-valid ones (truncated, a field off). The seeds PruneLab writes itself
(tagged ONNX, .plm and their manifests) come from `fuzz_make_seeds` (make_seeds.cpp).

Deterministic (fixed seeds); rerun and commit when a format changes:
  /usr/bin/python3 tests/fuzz/make_corpus.py tests/fuzz/corpus
"""
import collections
import gzip
import io
import os
import struct
import sys
import types
import zipfile

import numpy as np
import torch
import torch.nn as nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
torch.manual_seed(0)


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def saved(obj):
    """torch.save bytes (a zip) and its data.pkl."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    raw = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        return raw, z.read(pkl)


# ---- torch pickles and .pt files -------------------------------------------------------
class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, bias=False)   # 18 floats: fits the harness's 256-byte storages
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, 3)


def fake_module(modname, clsname):
    """A class pickled as `modname.clsname` (yolov5's and ultralytics' model classes)."""
    parts = modname.split(".")
    for i in range(1, len(parts) + 1):  # the parent packages too: pickle imports the path
        name = ".".join(parts[:i])
        sys.modules.setdefault(name, types.ModuleType(name))
        if i > 1:
            setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[name])
    mod = sys.modules[modname]
    cls = type(clsname, (nn.Module,), {"__module__": modname})
    setattr(mod, clsname, cls)
    return cls


def yolo_like(modname, clsname, yaml):
    Model = fake_module(modname, clsname)
    m = Model()
    m.model = nn.Sequential(Tiny())
    m.yaml = yaml
    m.names = {0: "thing", 1: "other"}
    m.stride = torch.tensor([8.0, 16.0, 32.0])
    return m


tiny = Tiny()
sd = tiny.state_dict()
v5_yaml = {"nc": 2, "depth_multiple": 0.33, "width_multiple": 0.25,
           "anchors": [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]],
           "backbone": [[-1, 1, "Conv", [16, 6, 2, 2]], [-1, 1, "Conv", [32, 3, 2]], [-1, 1, "C3", [32]],
                        [-1, 1, "SPPF", [32, 5]]],
           "head": [[[3], 1, "Detect", ["nc", "anchors"]]]}
v8_yaml = {"nc": 2, "scales": {"n": [0.33, 0.25, 1024]},
           "backbone": [[-1, 1, "Conv", [16, 3, 2]], [-1, 1, "C2f", [16, True]], [-1, 1, "SPPF", [16, 5]]],
           "head": [[[2], 1, "Detect", ["nc"]]]}
objects = {
    "state_dict": sd,
    "state_dict_half": collections.OrderedDict((k, v.half()) for k, v in sd.items()),
    "wrapped_model": {"model": sd, "epoch": 3},
    "wrapped_state_dict": {"state_dict": sd, "optimizer": None},
    "dataparallel": collections.OrderedDict(("module." + k, v) for k, v in sd.items()),
    "whole_module": nn.Sequential(Tiny(), nn.ReLU()),
    "views": {"a": torch.arange(12.0).view(3, 4)[1:, ::2], "b": torch.ones(2, 2).t(), "i": torch.arange(5),
              "bool": torch.tensor([True, False]), "empty": torch.zeros(0, 3)},
    "yolov5_ckpt": {"epoch": -1, "best_fitness": None, "model": yolo_like("models.yolo", "DetectionModel", v5_yaml),
                    "ema": None, "date": "2024-01-01"},
    "ultralytics_ckpt": {"epoch": 5, "model": None, "ema": yolo_like("ultralytics.nn.tasks", "DetectionModel",
                                                                    dict(v8_yaml, scale="n")),
                         "train_args": {"imgsz": 64, "data": "coco8.yaml"}, "version": "8.1.0"},
}
for name, obj in objects.items():
    raw, pkl = saved(obj)
    put("fuzz_torch_pickle", name + ".pkl", pkl)
    put("fuzz_pt_file", name + ".pt", raw)
# Older pickle protocols and plain values (torch.save uses protocol 2; others write 4/5).
import pickle
plain = {"a": [1, 2.5, "x", None, True, (1, 2)], "b": {1: b"bytes"}, "big": 2 ** 70, "neg": -5}
for proto in (0, 2, 4, 5):
    put("fuzz_torch_pickle", "plain_p%d.pkl" % proto, pickle.dumps(plain, protocol=proto))
# Refused names (nothing is ever run).
put("fuzz_torch_pickle", "evil_os_system.pkl", b"cos\nsystem\n(S'true'\ntR.")
put("fuzz_torch_pickle", "evil_stack_global.pkl", b"\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R.")
# Near-valid: truncated pickle, truncated zip, a zip without data.pkl.
raw, pkl = saved(sd)
put("fuzz_torch_pickle", "truncated.pkl", pkl[: len(pkl) // 2])
put("fuzz_pt_file", "truncated.pt", raw[: len(raw) - 40])
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("archive/other.txt", "no pickle here")
put("fuzz_pt_file", "no_data_pkl.pt", buf.getvalue())

# ---- ONNX exported by PyTorch (the generic, untagged import path) -----------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, stride=2, groups=2)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = torch.relu(self.bn(self.c1(x)))
        x = nn.functional.silu(self.c2(x)) + 1.0
        x = nn.functional.max_pool2d(x, 2)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class Res(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 2, 1)
        self.b = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], 1)
        y = nn.functional.interpolate(y, scale_factor=2.0, mode="nearest")
        return y.view(y.size(0), -1)


for name, model, shape, opset in (("net_op13", Net(), (1, 3, 8, 8), 13), ("net_op17", Net(), (1, 3, 8, 8), 17),
                                  ("res_op11", Res(), (1, 2, 4, 4), 11)):
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, torch.randn(*shape), buf, opset_version=opset, input_names=["input"],
                      dynamic_axes={"input": {0: "batch"}})
    put("fuzz_onnx", name + ".onnx", buf.getvalue())

# ---- .npy ---------------------------------------------------------------------------------
def npy(arr, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, arr)
    else:
        np.lib.format.write_array(buf, arr, version=version)
    return buf.getvalue()


put("fuzz_npy", "f32.npy", npy(np.arange(6, dtype=np.float32).reshape(1, 2, 3)))
put("fuzz_npy", "f64_v2.npy", npy(np.ones((2, 2)), version=(2, 0)))
put("fuzz_npy", "i64_v3.npy", npy(np.arange(3, dtype=np.int64), version=(3, 0)))
put("fuzz_npy", "u1.npy", npy(np.zeros((2, 2), dtype=np.uint8)))
put("fuzz_npy", "bool.npy", npy(np.array([True, False])))
put("fuzz_npy", "f16.npy", npy(np.ones(4, dtype=np.float16)))
put("fuzz_npy", "scalar.npy", npy(np.float32(3.0)))
put("fuzz_npy", "empty.npy", npy(np.zeros((0, 5), dtype=np.float32)))
put("fuzz_npy", "fortran.npy", npy(np.asfortranarray(np.ones((2, 3), dtype=np.float32))))
put("fuzz_npy", "big_shape_lie.npy", npy(np.ones(2, dtype=np.float32)).replace(b"(2,)", b"(99999999999,)"))
put("fuzz_npy", "truncated.npy", npy(np.ones(8, dtype=np.float32))[:-5])

# ---- Fashion-MNIST IDX (images, "IDXSPLIT", labels) ------------------------------------
def idx(n, h, w, labels=None):
    img = struct.pack(">IIII", 0x803, n, h, w) + bytes((i * 37) % 256 for i in range(n * h * w))
    lab = struct.pack(">II", 0x801, n) + bytes(labels if labels is not None else [i % 10 for i in range(n)])
    return img, lab


img, lab = idx(3, 4, 4)
put("fuzz_idx", "raw.bin", img + b"IDXSPLIT" + lab)
put("fuzz_idx", "gzip.bin", gzip.compress(img, mtime=0) + b"IDXSPLIT" + gzip.compress(lab, mtime=0))
put("fuzz_idx", "bad_label.bin", idx(2, 2, 2, [3, 12])[0] + b"IDXSPLIT" + idx(2, 2, 2, [3, 12])[1])
put("fuzz_idx", "count_lie.bin", struct.pack(">IIII", 0x803, 0x7fffffff, 0x10000, 0x10000) + b"IDXSPLIT" + lab)
put("fuzz_idx", "truncated.bin", img[:20] + b"IDXSPLIT" + lab)

# ---- YOLO labels (first byte: class count - 1) -------------------------------------------
labels = {
    "boxes.txt": "0 0.5 0.5 0.2 0.3\n1 0.1 0.2 0.05 0.05\n",
    "polygon.txt": "2 0.1 0.1 0.4 0.1 0.4 0.5 0.1 0.5\n",
    "duplicates.txt": "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n\n",
    "border.txt": "0 0.999 0.999 0.01 0.01\n0 0.0 0.0 1.0005 1.0\n",
    "bad_class.txt": "5 0.5 0.5 0.1 0.1\n",
    "bad_number.txt": "0 0.5 nan 0.1 0.1\n",
    "crlf.txt": "0 0.5 0.5 0.2 0.2\r\n1 0.2 0.2 0.1 0.1\r\n",
    "empty.txt": "",
}
for name, text in labels.items():
    put("fuzz_labels", name, bytes([2]) + text.encode())

# ---- data.yaml (the harness opens relative ones in a sandbox: images/{train,val}) --------
data_yamls = {
    "folders.yaml": "path: .\ntrain: images/train\nval: images/val\nnames: [a, b]\n",
    "map_names.yaml": "train: images/train\nval: images/val\nnames:\n  0: person\n  1: car\n",
    "nc_only.yaml": "train: images/train\nval: images/val\nnc: 8\n",
    "list_file.yaml": "train: train.txt\nval: [images/val, images/train]\ntest: ''\nnames: [x, y]\n",
    "bad_nc.yaml": "train: images/train\nval: images/val\nnc: 3\nnames: [a, b]\n",
    "missing_split.yaml": "train: images/train\nnames: [a]\n",
    "absolute.yaml": "path: /nonexistent\ntrain: images/train\nval: images/val\nnames: [a]\n",
}
for name, text in data_yamls.items():
    put("fuzz_data_yaml", name, text)

# ---- model YAML (shipped configs plus small ones) -----------------------------------------
models_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "models")
for f in sorted(os.listdir(models_dir)):
    with open(os.path.join(models_dir, f), "rb") as src:
        put("fuzz_model_yaml", f, src.read())
import json
put("fuzz_model_yaml", "tiny_v5.yaml", json.dumps(v5_yaml))
put("fuzz_model_yaml", "tiny_v8.yaml", json.dumps(dict(v8_yaml, scales={"n": [0.33, 0.25, 64]})))

# ---- ratio files ----------------------------------------------------------------------------
ratios = {
    "flat.yaml": "layer1.0.conv1: 0.5\nlayer2.*: 0.25\n",
    "nested.yaml": "default: 0.3\nlayers:\n  model.2.cv1: 0.5\n  'model.*.m.*': 0.1\n",
    "default_only.yaml": "default: 0.2\n",
    "not_number.yaml": "conv1: half\n",
    "list.yaml": "- a\n- b\n",
}
for name, text in ratios.items():
    put("fuzz_ratios", name, text)
