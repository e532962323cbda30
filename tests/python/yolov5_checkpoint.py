#!/usr/bin/python3
"""Writes yolov5 checkpoints with yolov5's own code, as its train.py saves them, plus PyTorch
reference outputs, for PruneLab's .pt tests (tests/parity/test_pt_checkpoint.cpp).

The files are committed in tests/data/pt (see its README.md); regenerate them with
  /usr/bin/python3 tests/python/yolov5_checkpoint.py --yolov5 DIR --out tests/data/pt
where DIR is a yolov5 v7.0 checkout (or set $PRUNELAB_YOLOV5_DIR). The output is
deterministic: fixed seeds and a fixed 'date', so a rerun on the same machine rewrites the
same bytes.

The model is yolov5's models.yolo.Model(cfg, nc=...) from that checkout. Importing it pulls
in packages the model does not use (pandas, IPython, matplotlib, seaborn, tqdm, requests,
thop): those are stubbed; pkg_resources.parse_version, which the import-time version checks
call, is a real (tiny) version parser.

For each NAME (yolov5n_nc3, yolov5s_nc3), a finished run's file: train.py's dict with
epoch -1, best_fitness None, model (a deepcopy, .half()), ema None, updates None, optimizer
None, opt, git, date; the model carries nc, hyp, names and class_weights as train.py sets them.
yolov5n_last is a mid-training last.pt (train.py's save at the end of an epoch): 'model' is
the live model and 'ema' the EMA (both .half(), different weights: readers must take 'ema'),
'updates' the EMA's count, 'optimizer' the state_dict() of yolov5's own smart_optimizer (SGD,
nesterov, three parameter groups, momentum buffers) after two steps of yolov5's ComputeLoss
on random targets, with LambdaLR's 'initial_lr' and the numpy floats the warmup's np.interp
leaves in the groups; 'opt' is vars(opt) of a `python train.py --cfg models/yolov5n.yaml`
run, 'best_fitness' the numpy array train.py keeps, 'git' what check_git_info() returns for a
release archive.

Files per NAME in --out:
  NAME.pt, NAME_input.npy, NAME_output{0,1,2}.npy (raw levels [1, na, ny, nx, nc+5] of the
  fp16 weights run in fp32; for yolov5n_last those of 'ema'), NAME_zero_output{i}.npy
  (all-zero input), NAME_names.json
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
from unittest import mock

import numpy as np
import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_common import randomise_bn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COMMITTED_DIR = os.path.normpath(os.path.join(HERE, "..", "data", "pt"))  # tests/data/pt
# train.py writes datetime.now().isoformat(); fixed so that the files are reproducible.
DATE = "2022-11-22T12:00:00.000000"

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
    """yolov5 v7.0 source: the given checkout (--yolov5 or $PRUNELAB_YOLOV5_DIR); else one
    extracted earlier next to --out; else none (nothing is fetched: tests never use the network)."""
    if given:
        return given if is_yolov5(given) else ""
    dest = os.path.join(os.path.dirname(os.path.abspath(out)), "yolov5-v7.0")
    return dest if is_yolov5(dest) else ""


def write_references(out, tag, half_model, x, names):
    """NAME_input.npy, NAME_output{i}.npy, NAME_zero_output{i}.npy and NAME_names.json."""
    np.save(os.path.join(out, tag + "_input.npy"), x.numpy())
    for i, o in enumerate(raw_outputs(half_model, x)):
        np.save(os.path.join(out, f"{tag}_output{i}.npy"), o)
    for i, o in enumerate(raw_outputs(half_model, torch.zeros_like(x))):
        np.save(os.path.join(out, f"{tag}_zero_output{i}.npy"), o)
    with open(os.path.join(out, tag + "_names.json"), "w") as f:
        json.dump([names[i] for i in range(len(names))], f)


def write_finished(out, Model, x, size):
    """yolov5n_nc3 and yolov5s_nc3: what train.py leaves after the last epoch."""
    for seed, (name, nc) in enumerate([("yolov5n", 3), ("yolov5s", 3)]):
        tag = f"{name}_nc{nc}"
        model = Model(os.path.join("models", name + ".yaml"), ch=3, nc=nc)
        randomise_bn(model, seed + 1, size)
        # train.py: model attributes, then save_model's dict.
        hyp = {"lr0": 0.01, "momentum": 0.937, "weight_decay": 0.0005, "box": 0.05, "cls": 0.5, "obj": 1.0,
               "anchor_t": 4.0, "fl_gamma": 0.0}
        names = {i: f"class{i}_{name}" for i in range(nc)}  # v7.0's check_dataset makes names a dict
        model.nc, model.hyp, model.names = nc, hyp, names
        model.class_weights = torch.ones(nc) * nc
        ckpt = {"epoch": -1, "best_fitness": None, "model": deepcopy(model).half(), "ema": None, "updates": None,
                "optimizer": None, "opt": {"weights": "", "cfg": name + ".yaml", "data": "data.yaml", "epochs": 3,
                                           "batch_size": 16, "imgsz": 640, "device": "", "hyp": hyp},
                "git": None, "date": DATE}
        torch.save(ckpt, os.path.join(out, tag + ".pt"))
        write_references(out, tag, ckpt["model"], x, names)


def train_opt():
    """vars(opt) as train.py's main() leaves it for
    `python train.py --weights '' --cfg models/yolov5n.yaml --data data/coco128.yaml --project runs/train`
    run from the checkout (parse_opt's v7.0 defaults; paths made strings by the checks)."""
    return argparse.Namespace(
        weights="", cfg="models/yolov5n.yaml", data="data/coco128.yaml", hyp="data/hyps/hyp.scratch-low.yaml",
        epochs=100, batch_size=16, imgsz=640, rect=False, resume=False, nosave=False, noval=False,
        noautoanchor=False, noplots=False, evolve=None, bucket="", cache=None, image_weights=False, device="",
        multi_scale=False, single_cls=False, optimizer="SGD", sync_bn=False, workers=8, project="runs/train",
        name="exp", exist_ok=False, quad=False, cos_lr=False, label_smoothing=0.0, patience=100, freeze=[0],
        save_period=-1, seed=0, local_rank=-1, entity=None, upload_dataset=False, bbox_interval=-1,
        artifact_alias="latest", save_dir="runs/train/exp")


def write_mid_training(out, Model, x, size):
    """yolov5n_last: train.py's last.pt at the end of epoch 3 of 100, with yolov5's own optimizer,
    scheduler, EMA and loss. The EMA is 5000 updates old when the two steps run, so it moves
    little; before them the live model is perturbed (the training since the EMA last caught up),
    so 'model' and 'ema' differ clearly."""
    from utils.general import labels_to_class_weights  # yolov5's own helpers from here on
    from utils.loss import ComputeLoss
    from utils.torch_utils import ModelEMA, smart_optimizer

    tag, nc = "yolov5n_last", 3
    torch.manual_seed(3)
    g = torch.Generator().manual_seed(3)
    opt = train_opt()
    with open(opt.hyp) as f:
        hyp = yaml.safe_load(f)
    opt.hyp = hyp.copy()  # train.py: "for saving hyps to checkpoints", before the scaling below
    names = {i: f"class{i}_yolov5n_last" for i in range(nc)}

    model = Model(opt.cfg, ch=3, nc=nc, anchors=hyp.get("anchors"))
    randomise_bn(model, 4, size)
    nbs, batch_size = 64, opt.batch_size
    accumulate = max(round(nbs / batch_size), 1)
    hyp["weight_decay"] *= batch_size * accumulate / nbs
    optimizer = smart_optimizer(model, opt.optimizer, hyp["lr0"], hyp["momentum"], hyp["weight_decay"])
    lf = lambda e: (1 - e / opt.epochs) * (1.0 - hyp["lrf"]) + hyp["lrf"]  # noqa: E731 (train.py's linear lf)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
    ema = ModelEMA(model)
    nl = model.model[-1].nl
    hyp["box"] *= 3 / nl
    hyp["cls"] *= nc / 80 * 3 / nl
    hyp["obj"] *= (opt.imgsz / 640) ** 2 * 3 / nl
    hyp["label_smoothing"] = opt.label_smoothing
    model.nc, model.hyp, model.names = nc, hyp, names
    labels = [np.concatenate([torch.randint(0, nc, (5, 1), generator=g).numpy(), torch.rand(5, 4, generator=g).numpy()],
                             1) for _ in range(16)]  # [class, x, y, w, h] per image of the data set
    model.class_weights = labels_to_class_weights(labels, nc) * nc
    compute_loss = ComputeLoss(model)

    # Mid-run: epoch 3 of nb = 100 batches, so iteration ni = 300 is the last of the warmup
    # (nw = max(round(3.0 * nb), 100) = 300); the EMA has seen 5000 earlier optimizer steps.
    epoch, nb = 3, 100
    nw = max(round(hyp["warmup_epochs"] * nb), 100)
    ema.updates = 5000
    last_opt_step = 299
    scheduler.last_epoch = epoch - 1
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * p.abs().mean() * torch.randn(p.shape, generator=g))
    model.train()
    optimizer.zero_grad()
    for ni in range(epoch * nb, epoch * nb + 2 * 4):  # accumulate = 4: two optimizer steps
        imgs = torch.rand(2, 3, size, size, generator=g)  # train.py: uint8 / 255
        targets = torch.cat([torch.tensor([[0.0], [0.0], [1.0]]), torch.randint(0, nc, (3, 1), generator=g).float(),
                             0.3 + 0.4 * torch.rand(3, 2, generator=g), 0.1 + 0.3 * torch.rand(3, 2, generator=g)], 1)
        if ni <= nw:  # train.py's warmup: np.interp leaves numpy.float64 in the param groups
            xi = [0, nw]
            accumulate = max(1, np.interp(ni, xi, [1, nbs / batch_size]).round())
            for j, grp in enumerate(optimizer.param_groups):
                grp["lr"] = np.interp(ni, xi, [hyp["warmup_bias_lr"] if j == 0 else 0.0, grp["initial_lr"] * lf(epoch)])
                if "momentum" in grp:
                    grp["momentum"] = np.interp(ni, xi, [hyp["warmup_momentum"], hyp["momentum"]])
        loss, _ = compute_loss(model(imgs), targets)
        loss.backward()
        if ni - last_opt_step >= accumulate:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
            optimizer.step()
            optimizer.zero_grad()
            ema.update(model)
            last_opt_step = ni
    scheduler.step()  # end of epoch: lr = initial_lr * lf(epoch), momentum keeps the warmup's numpy value
    ema.update_attr(model, include=["yaml", "nc", "hyp", "names", "stride", "class_weights"])
    best_fitness = np.array([0.4321])  # train.py: fitness(np.array(results).reshape(1, -1)), an ndarray

    ckpt = {"epoch": epoch, "best_fitness": best_fitness, "model": deepcopy(model).half(),
            "ema": deepcopy(ema.ema).half(), "updates": ema.updates, "optimizer": optimizer.state_dict(),
            "opt": vars(opt), "git": {"remote": None, "branch": None, "commit": None}, "date": DATE}
    torch.save(ckpt, os.path.join(out, tag + ".pt"))
    write_references(out, tag, ckpt["ema"], x, names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--yolov5", default=os.environ.get("PRUNELAB_YOLOV5_DIR", ""))
    ap.add_argument("--size", type=int, default=128)
    a = ap.parse_args()
    committed = os.path.realpath(a.out) == os.path.realpath(COMMITTED_DIR)
    if committed and not is_yolov5(a.yolov5):
        # Never clone into, or leave a marker in, the committed fixtures.
        sys.exit("yolov5_checkpoint.py: --yolov5 DIR (or $PRUNELAB_YOLOV5_DIR) must be a yolov5 v7.0 checkout "
                 "to regenerate tests/data/pt")
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
    write_finished(out, Model, x, a.size)
    write_mid_training(out, Model, x, a.size)
    os.chdir(cwd)
    print("wrote", out)


if __name__ == "__main__":
    main()
