#!/usr/bin/python3
"""The yolov5 loop end to end, as a user runs it (ctest pt_export_yolov5_stack):

  prunelab-cli prune  --model tests/data/pt/yolov5s_nc3.pt --criterion l2 --percent 0.5 [--yaml-widths]
  prunelab-cli export --format yolov5 --out pruned.pt
  prunelab-cli infer  --model pruned.pt                      (PruneLab's outputs)
  check_pt_export.py yolov5 ...                              (yolov5's own code: torch.load,
      outputs against PruneLab's within 1e-5, val.py, detect.py, export.py --include onnx,
      one fine-tune step with ComputeLoss; the rebuild from the model's yaml as train.py
      --weights does it)
  check_pt_export.py yolov5 --require-yaml --train-epoch ...  (the --yaml-widths plan: the
      yaml rebuild takes every tensor, and yolov5's train.py --weights pruned.pt runs one
      epoch, transferring every tensor and keeping the pruned parameter count)

yolov5's source comes from --yolov5 or $PRUNELAB_YOLOV5_DIR (v7.0 tested); without it the
test prints "SKIP: ..." and exits 77, which ctest shows as a skipped test.
  yolov5_stack_test.py --cli PRUNELAB_CLI --work DIR [--yolov5 DIR]
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "data", "pt"))


def run(cmd):
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(r.stdout, flush=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: exit {r.returncode}: {' '.join(cmd)}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--yolov5", default=os.environ.get("PRUNELAB_YOLOV5_DIR", ""))
    a = ap.parse_args()
    if not a.yolov5 or not os.path.isfile(os.path.join(a.yolov5, "models", "yolo.py")):
        print("SKIP: no yolov5 source (set PRUNELAB_YOLOV5_DIR to a yolov5 v7.0 checkout)")
        return 77
    os.makedirs(a.work, exist_ok=True)
    w = lambda f: os.path.join(a.work, f)  # noqa: E731
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    np.save(w("x.npy"), x)
    run([a.cli, "make-dataset", "fashion-det", "--out", w("data"), "--train", "8", "--val", "4", "--size", "64"])
    code = 0
    for name, extra, checks in (("pruned", [], []),
                                ("pruned_yaml", ["--yaml-widths"], ["--require-yaml", "--train-epoch"])):
        run([a.cli, "prune", "--model", os.path.join(DATA, "yolov5s_nc3.pt"), "--criterion", "l2", "--percent", "0.5",
             "--out", w(name + ".plm")] + extra)
        run([a.cli, "export", "--model", w(name + ".plm"), "--format", "yolov5", "--out", w(name + ".pt")])
        run([a.cli, "infer", "--model", w(name + ".pt"), "--input", w("x.npy"), "--output-dir", w(name + "_out")])
        r = subprocess.run([sys.executable, os.path.join(HERE, "check_pt_export.py"), "yolov5", "--weights",
                            w(name + ".pt"), "--input", w("x.npy"), "--expected-prefix",
                            os.path.join(a.work, name + "_out", "output"), "--yolov5", a.yolov5, "--data-dir",
                            w("data"), "--work", w("yolov5_" + name)] + checks)
        code = code or r.returncode
    return code


if __name__ == "__main__":
    sys.exit(main())
