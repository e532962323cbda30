#!/usr/bin/env python3
"""Layering check for core/ (run by .ci/run; plain python3, no dependencies).

Reads every `#include "folder/..."` in core/**/*.{h,cpp} and fails (exit 1) with the
offending includes as file:line when
  - core folders include each other in a cycle,
  - a folder includes a folder of a higher layer than its own (LAYERS below), or a core
    folder is missing from LAYERS,
  - core/ includes a Qt header, or widgets/ includes a torch/ATen/c10 header,
  - core/, app/ or widgets/ would run Python: a string literal naming python, or an include
    of Python.h or pybind11 (the product never needs Python; tests/ may use it).
`--root DIR` checks another tree (tests/python/check_layers_test.py plants violations).
"""

import os
import re
import sys

# Layers of core/, lowest first. A folder may include only folders of its own or a lower
# layer. A new folder under core/ has to be placed here.
LAYERS = [
    ["util"],      # errors, atomic files, .npy, resource lookup
    ["graph"],     # the IR; shape text and default input shape, scope patterns
    ["detect"],    # YOLO head, box ops, detections and NMS, losses (needs only graph, util)
    ["ops"],       # the op table
    ["analysis"],  # shape inference, cost accounting
    ["passes"],    # graph-to-graph passes: BN folding, lowering of composite ops
    ["exec"],      # GraphModule, inference, runtime, latency
    ["distributed"],  # c10d process group, gradient buckets, SyncBN's cross-replica sum
    ["io"],        # readers and writers of model files
    ["pruning"],   # dependency graph, importance, planners, surgery, fitting a graph to pruned widths
    ["models"],    # builders, the zoo, model loading (uses io; pruned .pt files through pruning's shape fit)
    ["interop"],   # writing models back as their trainers' own .pt (yolov5, ultralytics, torchvision)
    ["data"],      # datasets, transforms, loader
    ["eval"],      # classification and detection evaluation
    ["train"],     # trainer, tasks, sparsity
    ["session"],   # Session: history, open data, recipes, calibration (what the front ends share)
    ["report"],    # the story report (reads everything back)
]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
ANGLE_OR_QUOTE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
QT_RE = re.compile(r"^(Qt[A-Za-z]*/|Q[A-Z][A-Za-z]*$|Q[A-Z][A-Za-z]*\.h$|qglobal\.h$)")
TORCH_RE = re.compile(r"^(torch|ATen|c10)/")
PYTHON_INCLUDE_RE = re.compile(r"^(Python\.h$|pybind11/|torch/python\.h$|torch/csrc/python)")
# A string literal that names python (python3, /usr/bin/python, "python -c ..."): a launch.
PYTHON_STRING_RE = re.compile(r'"[^"\n]*\bpython[0-9.]*\b[^"\n]*"', re.IGNORECASE)


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".h", ".cpp")):
                yield os.path.join(dirpath, name)


def includes(path, pattern):
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = pattern.match(line)
            if m:
                yield lineno, m.group(1)


def strongly_connected(nodes, edges):
    """Tarjan's algorithm; returns the components with more than one folder."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                result.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return result


def shortest_cycles(members, edges):
    """For each edge u -> v inside a component, the shortest cycle through it (deduplicated)."""
    found = set()
    for u in sorted(members):
        for v in sorted(edges.get(u, ())):
            if v not in members:
                continue
            prev, queue = {v: None}, [v]
            while queue and u not in prev:
                nxt = []
                for x in queue:
                    for y in sorted(edges.get(x, ())):
                        if y in members and y not in prev:
                            prev[y] = x
                            nxt.append(y)
                queue = nxt
            path, x = [], u
            while x is not None:
                path.append(x)
                x = prev[x]
            cycle = [u] + list(reversed(path))[:-1]
            i = cycle.index(min(cycle))
            found.add(tuple(cycle[i:] + cycle[:i]))
    return sorted(found, key=lambda c: (len(c), c))


def python_uses(root):
    """(file, line, text) of every Python include or python-naming string under root."""
    for path in source_files(root):
        for lineno, inc in includes(path, ANGLE_OR_QUOTE_RE):
            if PYTHON_INCLUDE_RE.match(inc):
                yield path, lineno, f"#include {inc}"
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                code = line.split("//", 1)[0] if not line.lstrip().startswith("#") else ""
                m = PYTHON_STRING_RE.search(code)
                if m:
                    yield path, lineno, m.group(0)


def main(argv):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(argv) == 2 and argv[0] == "--root":
        repo = os.path.abspath(argv[1])
    core = os.path.join(repo, "core")
    widgets = os.path.join(repo, "widgets")
    folders = sorted(d for d in os.listdir(core) if os.path.isdir(os.path.join(core, d)))
    layer_of = {f: i for i, layer in enumerate(LAYERS) for f in layer}
    problems = []

    def rel(path):
        return os.path.relpath(path, repo)

    for f in folders:
        if f not in layer_of:
            problems.append(f"core/{f}/: folder is not in LAYERS (scripts/check_layers.py)")

    # (from, to) -> [(file, line, include)]
    edges = {}
    files = 0
    for path in source_files(core):
        files += 1
        src = os.path.relpath(path, core).split(os.sep)[0]
        for lineno, inc in includes(path, INCLUDE_RE):
            dst = inc.split("/")[0]
            if "/" not in inc or dst not in folders or dst == src:
                continue
            edges.setdefault((src, dst), []).append((rel(path), lineno, inc))

    def downward(src, dst):
        return src in layer_of and dst in layer_of and layer_of[dst] < layer_of[src]

    graph = {}
    for (src, dst) in edges:
        graph.setdefault(src, set()).add(dst)
    reported = set()
    for comp in strongly_connected(folders, graph):
        members = set(comp)
        problems.append("cycle between core folders: " + ", ".join(comp))
        for cycle in shortest_cycles(members, graph):
            problems.append("  cycle: " + " -> ".join(cycle + (cycle[0],)))
        # Every cycle has an include that does not go down the layer order: those close it.
        problems.append("  includes closing these cycles (not downward in LAYERS):")
        for (src, dst), sites in sorted(edges.items()):
            if src in members and dst in members and not downward(src, dst):
                reported.add((src, dst))
                for path, lineno, inc in sites:
                    problems.append(f"    {path}:{lineno}: {src} -> {dst}: #include \"{inc}\"")

    for (src, dst), sites in sorted(edges.items()):
        if (src, dst) in reported:
            continue
        if src in layer_of and dst in layer_of and layer_of[dst] > layer_of[src]:
            for path, lineno, inc in sites:
                problems.append(f"{path}:{lineno}: {src} includes higher layer {dst}: #include \"{inc}\"")

    for path in source_files(core):
        for lineno, inc in includes(path, ANGLE_OR_QUOTE_RE):
            if QT_RE.match(inc):
                problems.append(f"{rel(path)}:{lineno}: core includes Qt: {inc}")
    widget_files = 0
    if os.path.isdir(widgets):
        for path in source_files(widgets):
            widget_files += 1
            for lineno, inc in includes(path, ANGLE_OR_QUOTE_RE):
                if TORCH_RE.match(inc):
                    problems.append(f"{rel(path)}:{lineno}: widgets includes LibTorch: {inc}")

    product_files = 0
    for top in ("core", "app", "widgets"):
        if not os.path.isdir(os.path.join(repo, top)):
            continue
        product_files += sum(1 for _ in source_files(os.path.join(repo, top)))
        for path, lineno, text in python_uses(os.path.join(repo, top)):
            problems.append(f"{rel(path)}:{lineno}: the product would run Python: {text}")

    if problems:
        print("check_layers: FAILED", file=sys.stderr)
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    order = " < ".join("/".join(layer) for layer in LAYERS)
    print(f"check_layers: OK - {files} core files, {len(edges)} folder dependencies, no cycles, "
          f"none upward; core has no Qt, widgets/ ({widget_files} files) no torch/ATen/c10; "
          f"no Python in core/, app/, widgets/ ({product_files} files)")
    print(f"  layers: {order}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
