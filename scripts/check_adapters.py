#!/usr/bin/env python3
"""The front ends are adapters over core's Session (run by .ci/run and ctest; plain python3).

The CLI's commands and their option helpers (app/cli/) and the workbench's worker and
controllers (app/gui/) parse or collect their inputs, call the Session (core/session) and present what it returns. The decisions both
front ends must agree on live in core: how a validation split is loaded and batched, how a
model is evaluated, how an export is checked by reading it back, when a checkpoint made for
other classes is rebuilt and its tensors transferred, how a latency table is measured.

This script lists, per adapter, the Session calls it makes, and fails (exit 1) naming
file:line when an adapter does one of those things itself:
  - builds a data loader (DataLoader, a LoaderOptions variable) or names an evaluation
    batch size default (kEvalBatch*, kValBatch*);
  - evaluates (evaluateClassifier, evaluateDetector, validateModel);
  - checks an export by reading it back (importing the ONNX it wrote, the read-back
    helpers), instead of core's exportModel;
  - transfers weights between class counts (transferWeights, a rebuild keyed on
    "num_classes" metadata);
  - measures a latency table (measureLatencyTable, timeLayerMs) instead of Session::latencyTable.
`--root DIR` checks another tree (tests/python/check_adapters_test.py plants each case).
"""

import os
import re
import sys

ADAPTERS = [
    ("app/cli", re.compile(r"^.*\.(cpp|h)$")),
    ("app/gui", re.compile(r"^.*\.(cpp|h)$")),
]

FORBIDDEN = [
    (re.compile(r"\bDataLoader\b"), "builds a data loader (Session::evaluate / the task own the loaders)"),
    (re.compile(r"\bLoaderOptions\s+\w+\s*[;({=]"), "sets up a data loader (Session::evaluate / the task own the loaders)"),
    (re.compile(r"\bk(Eval|Val)Batch\w*"), "names an evaluation batch default (core's evalBatch() is the one)"),
    (re.compile(r"\b(evaluateClassifier|evaluateDetector|validateModel)\s*\("), "evaluates a model itself (Session::evaluate / validate)"),
    (re.compile(r"\b(importOnnx|loadOnnxModel|readBackCheck|checkReadBack|compareWithModel)\s*\("),
     "checks an export itself (core's exportModel reads every export back)"),
    (re.compile(r"\btransferWeights\s*\(|metadata\(\)\s*\.\s*(at|count|find)\(\s*\"num_classes\"\s*\)"),
     "decides a class-count transfer itself (Session::openData / loadModelForData)"),
    # core's free functions (a method of the adapter's own, w->measureLatencyTable(), is fine)
    (re.compile(r"(?:^|[^>:.\w]|prunelab::)(measureLatencyTable|timeLayerMs)\s*\("),
     "measures a latency table itself (Session::latencyTable)"),
]

SESSION_CALL = re.compile(r"\bsession(?:\(\))?\s*(?:\.|->)\s*(\w+)\s*\(")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def adapter_files(root):
    for folder, pattern in ADAPTERS:
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            if pattern.match(name):
                yield os.path.join(folder, name)


def check(root):
    problems, calls = [], {}
    for rel in adapter_files(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            lines = strip_comments(f.read()).split("\n")
        used = []
        for lineno, line in enumerate(lines, 1):
            for pattern, what in FORBIDDEN:
                if pattern.search(line):
                    problems.append(f"{rel}:{lineno}: {what}: {line.strip()}")
            for m in SESSION_CALL.finditer(line):
                if m.group(1) not in used:
                    used.append(m.group(1))
        calls[rel] = used
    return problems, calls


def main(argv):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if len(argv) >= 3 and argv[1] == "--root":
        root = argv[2]
    problems, calls = check(os.path.abspath(root))
    print("Session calls per adapter:")
    for rel, used in calls.items():
        print(f"  {rel}: {', '.join(used) if used else '(none)'}")
    if problems:
        print("adapters doing the Session's work:")
        for p in problems:
            print("  " + p)
        return 1
    print(f"adapters OK ({len(calls)} files: no loaders, evaluation, export checks, transfers or latency "
          f"tables of their own)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
