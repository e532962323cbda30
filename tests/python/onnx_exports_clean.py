#!/usr/bin/python3
"""PruneLab's ONNX exports carry nothing a runtime has to throw away (ctest
onnx_exports_written, then onnx_exports_no_unused_initializers and onnx_exports_load_quietly).

  onnx_exports_clean.py --work DIR --step export --cli PRUNELAB_CLI
      exports resnet18, yolov5n, yolov8n and yolo11n with `prunelab-cli export` as a user
      would, and yolov5n BN-folded at opset 13 too (the one model whose folded file had an
      unused initializer: YOLOv5's anchors), into DIR; then re-exports yolov5n.onnx from
      itself and fails unless the two files are byte-identical: the tensors no ONNX op
      reads (anchors, num_batches_tracked) come back from the node tags that carry them;
  onnx_exports_clean.py --work DIR --step onnx
      every initializer of every DIR/*.onnx is read by some node or is a graph output (the
      onnx package; runs wherever the test suite does);
  onnx_exports_clean.py --work DIR --step ort [--node NODE]
      ONNX Runtime (tests/ort/ort_run.js load, log severity 2 = warnings) opens every file
      and prints nothing on stderr: it warns, for instance, "Removing initializer ... It is
      not used by any node". Without node or onnxruntime-node it prints "SKIP: ..." and
      exits 77, which ctest shows as a skipped test.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORT_DIR = os.path.normpath(os.path.join(HERE, "..", "ort"))
MODELS = ("resnet18", "yolov5n", "yolov8n", "yolo11n")
# Small inputs keep the exports quick; which initializers a file holds does not depend on it.
INPUTS = {"resnet18": "3x64x64"}
DEFAULT_INPUT = "3x160x160"
FOLDED = {"yolov5n": ["--opset", "13", "--fold-bn"]}
SKIP = 77


def export(cli, work, model, suffix, extra):
    """`model` (a name, or an .onnx file) exported as DIR/<name><suffix>.onnx."""
    name = os.path.splitext(os.path.basename(model))[0]
    out = os.path.join(work, name + suffix + ".onnx")
    cmd = [cli, "export", "--model", model, "--format", "onnx", "--input", INPUTS.get(name, DEFAULT_INPUT),
           "--out", out] + extra
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: exit {r.returncode}: {' '.join(cmd)}\n{r.stdout}")
    print(f"wrote {out}")


def same_after_round_trip(cli, work, model):
    """The model's export, imported by PruneLab (through its tags) and exported again."""
    first = os.path.join(work, model + ".onnx")
    export(cli, work, first, "_again", [])
    with open(first, "rb") as a, open(os.path.join(work, model + "_again.onnx"), "rb") as b:
        same = a.read() == b.read()
    print(f"{model}.onnx -> PruneLab -> {model}_again.onnx: {'identical' if same else 'DIFFERENT'}")
    return same


def export_all(cli, work):
    if os.path.isdir(work):
        shutil.rmtree(work)  # no file left from an earlier run is checked
    os.makedirs(work)
    for model in MODELS:
        export(cli, work, model, "", [])
        if model in FOLDED:
            export(cli, work, model, "_folded", FOLDED[model])
    return 0 if same_after_round_trip(cli, work, "yolov5n") else 1


def exported(work):
    files = sorted(glob.glob(os.path.join(work, "*.onnx")))
    if len(files) < len(MODELS) + len(FOLDED):
        sys.exit(f"FAIL: {len(files)} .onnx files in {work}: the export step (ctest onnx_exports_written) did not run")
    return files


def unread_initializers(path):
    import onnx
    graph = onnx.load(path).graph
    read = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    return [t.name for t in graph.initializer if t.name not in read]


def check_onnx(files):
    bad = 0
    for f in files:
        unread = unread_initializers(f)
        names = ", ".join(unread[:3]) + (", ..." if len(unread) > 3 else "")
        print(f"{os.path.basename(f)}: {len(unread)} initializers no node reads{': ' + names if unread else ''}")
        bad += bool(unread)
    return 1 if bad else 0


def ort_missing(node):
    if not node or not shutil.which(node):
        return f"node not found ({node or 'none given'})"
    if not os.path.isfile(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node", "package.json")):
        return f"onnxruntime-node is not installed in {ORT_DIR}/node_modules (installer/deps.sh installs it)"
    return ""


def check_ort(files, node):
    bad = 0
    for f in files:
        r = subprocess.run([node, os.path.join(ORT_DIR, "ort_run.js"), "load", f, "--log-severity", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in r.stderr.splitlines() if line.strip()]
        if said:
            print(f"{os.path.basename(f)}: exit {r.returncode}, {len(said)} lines on stderr, the first: {said[0]}")
        else:
            print(f"{os.path.basename(f)}: exit {r.returncode}, nothing on stderr")
        bad += r.returncode != 0 or bool(said)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="where the exports are written and read")
    ap.add_argument("--step", required=True, choices=("export", "onnx", "ort"))
    ap.add_argument("--cli", help="prunelab-cli (--step export)")
    ap.add_argument("--node", default=shutil.which("node") or "")
    a = ap.parse_args()
    if a.step == "export":
        if not a.cli:
            sys.exit("--step export needs --cli")
        return export_all(a.cli, a.work)
    if a.step == "ort":
        missing = ort_missing(a.node)
        if missing:
            print(f"SKIP: {missing}")
            return SKIP
    files = exported(a.work)
    status = check_onnx(files) if a.step == "onnx" else check_ort(files, a.node)
    print("FAIL" if status else "PASS", f"({len(files)} files)")
    return status


if __name__ == "__main__":
    sys.exit(main())
