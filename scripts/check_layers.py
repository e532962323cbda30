#!/usr/bin/env python3
"""Layering check for core/ (run by .ci/run; plain python3, no dependencies).

Reads every `#include "folder/..."` in core/**/*.{h,cpp} and fails (exit 1) with the
offending includes as file:line when
  - core folders include each other in a cycle,
  - a folder includes a folder of a higher layer than its own (LAYERS below), or a core
    folder is missing from LAYERS,
  - core/ includes a Qt header, or widgets/ includes a torch/ATen/c10 header,
  - core/, app/ or widgets/ would run Python: a string literal naming python, or an include
    of Python.h or pybind11 (the product never needs Python; tests/ may use it),
  - source, tests or scripts (app/, core/, widgets/, tests/, scripts/, .ci/, installer/) name a
    path outside the repository (PATH RULES below).
`--root DIR` checks another tree (tests/python/check_layers_test.py plants violations).

PATH RULES. The build, the tests and the scripts must work from any checkout on any machine,
so a file may only name paths inside the repository, or system paths that the product or the
tools it runs legitimately use. Refused, on any line (comments included, file:line named):
  - absolute paths under personal or site locations: /work, /home, /root, /Users, /mnt,
    /media, /srv, /opt, /scratch, /nfs, /net, /shared - another machine does not have them;
  - a named file or folder under /tmp or /var/tmp (/tmp/inputs/x.npy): a committed input
    read from there is missing elsewhere. The bare scratch directory (/tmp, "${TMPDIR:-/tmp}")
    and mktemp templates (/tmp/run.XXXXXX) are fine: what is made there at run time is
    made by the run itself;
  - a relative path that leaves the repository: a run of "../" (or of ".." arguments to
    os.path.join) that, counted from the file's own folder - the anchor of #include,
    __file__, $(dirname "$0") and CMake's source-dir variables - climbs above the root
    ("../../x" in scripts/ does), or that climbs to a top-level name the repository does not
    have ("../shared" in tests/x.py). In a C/C++ test a string literal starting with "../" outside an
    #include is relative to the working directory (ctest's is the build tree) and is refused
    too (the product's own "../" handling of data.yaml splits is about the user's files). A "/.." appended to a variable ("$here/../..",
    dir + "/../labels") is relative to that variable and not judged here.
  - in tests/ only: the user's home (QDir::homePath, QStandardPaths::writableLocation - Qt's
    test mode keeps its locations under $HOME too -, expanduser, $HOME, ~/): a test reads
    and writes what its run made, never a user's files or an earlier run's leftovers.
Allowed system paths, because the product or its tools use them as such: /usr (the Debian
packages: /usr/bin/python3 for the tests, /usr/share/prunelab, /usr/share/datasets), /etc,
/dev (/dev/null, /dev/shm), /proc and /sys (process and device information), /bin, /lib.
A line that names an outside path on purpose (a hostile data.yaml whose split climbs into
/dev, a file that a test must refuse) says so with "check_layers: path ok" on it or on the
line above. Not scanned: tests/fuzz/corpus and tests/data (committed inputs, binary),
node_modules, and this script and its test, which spell the patterns out.
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


# --- paths outside the repository ---------------------------------------------------------
PATH_TOPS = ("app", "core", "widgets", "tests", "scripts", ".ci", "installer")
PATH_SKIP_DIRS = ("tests/fuzz/corpus", "tests/data", "node_modules", ".git")
PATH_SKIP_FILES = ("scripts/check_layers.py", "tests/python/check_layers_test.py", "package-lock.json")
PATH_EXTENSIONS = (".h", ".hpp", ".cpp", ".c", ".py", ".sh", ".cmake", ".in", ".js", ".txt", ".yaml", ".yml")
# Not after a word character, a dot, a slash, $ or a closing bracket: "$dir/home/x" and
# "a/opt/b" are relative parts of another path.
_ANCHOR = r"(?<![\w.$}\)\]/-])"
OUTSIDE_ABS_RE = re.compile(_ANCHOR + r"/(work|home|root|Users|mnt|media|srv|opt|scratch|nfs|net|shared)(?=/|[\s\"'`:;,)]|$)")
TMP_NAMED_RE = re.compile(_ANCHOR + r"/(?:var/)?tmp/([\w.+-]+(?:/[\w.+-]+)*)")
# C/C++ tests: a string literal that starts with "../" (not an #include) is relative to the process's
# working directory, which a test does not choose (ctest runs it in the build tree).
CWD_UP_RE = re.compile(r'"(\.\./[^"]*)"')
UP_RUN_RE = re.compile(r"(?<![\w.$}\)\]/-])((?:\.\./)+)([\w.+-]*)")
PY_JOIN_UP_RE = re.compile(r"((?:[\"']\.\.[\"']\s*,\s*)+)(?:[\"']([^\"']+)[\"'])?")
# Tests only: the user's home (Qt's writable locations live there, test mode included).
HOME_RE = re.compile(r"QDir::homePath|QStandardPaths::writableLocation|expanduser|\$HOME\b|\$\{HOME\}|"
                     r"getenv\(\s*\"HOME\"|environ(?:\.get\(|\[)\s*[\"']HOME[\"']|(?<![\w.$/])~/")
PATH_OK_MARK = "check_layers: path ok"


def path_files(repo):
    for top in PATH_TOPS:
        base = os.path.join(repo, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            rel_dir = os.path.relpath(dirpath, repo).replace(os.sep, "/")
            dirnames[:] = sorted(d for d in dirnames
                                 if not any(f"{rel_dir}/{d}" == s or d == s for s in PATH_SKIP_DIRS))
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}"
                if rel in PATH_SKIP_FILES or name in PATH_SKIP_FILES:
                    continue
                if name.endswith(PATH_EXTENSIONS) or name == "CMakeLists.txt" or rel == ".ci/run":
                    yield os.path.join(dirpath, name), rel


def outside_paths(repo):
    """(file, line, what) for every path outside the repository (PATH RULES)."""
    tops = set(os.listdir(repo))
    for path, rel in path_files(repo):
        depth = rel.count("/")  # folders between the root and the file
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        for i, line in enumerate(lines):
            if PATH_OK_MARK in line or (i > 0 and PATH_OK_MARK in lines[i - 1]):
                continue
            lineno = i + 1
            for m in OUTSIDE_ABS_RE.finditer(line):
                yield rel, lineno, f"absolute path under /{m.group(1)}"
            for m in TMP_NAMED_RE.finditer(line):
                if "XXXX" not in m.group(1):
                    yield rel, lineno, f"a named path in /tmp: {m.group(0).lstrip()}"
            ups = [(m.group(1).count("../"), m.group(2)) for m in UP_RUN_RE.finditer(line)]
            ups += [(len(re.findall(r"\.\.", m.group(1))), m.group(2) or "") for m in PY_JOIN_UP_RE.finditer(line)]
            for n, name in ups:
                if n > depth:
                    yield rel, lineno, f"{'../' * n}{name} climbs {n} folders from {os.path.dirname(rel)}/, above the repository"
                elif n == depth and name and name.split("/")[0] not in tops:
                    yield rel, lineno, f"{'../' * n}{name} names {name.split('/')[0]} beside the repository's root"
            if rel.startswith("tests/") and rel.endswith((".h", ".hpp", ".cpp", ".c")) and \
                    not line.lstrip().startswith("#"):
                for m in CWD_UP_RE.finditer(line):
                    yield rel, lineno, f"{m.group(1)} is relative to the working directory, outside the tree"
            if rel.startswith("tests/"):
                for m in HOME_RE.finditer(line):
                    yield rel, lineno, f"the user's home: {m.group(0)}"


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

    outside = 0
    for path, lineno, what in outside_paths(repo):
        outside += 1
        problems.append(f"{path}:{lineno}: names a path outside the repository: {what}")

    if problems:
        print("check_layers: FAILED", file=sys.stderr)
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    order = " < ".join("/".join(layer) for layer in LAYERS)
    print(f"check_layers: OK - {files} core files, {len(edges)} folder dependencies, no cycles, "
          f"none upward; core has no Qt, widgets/ ({widget_files} files) no torch/ATen/c10; "
          f"no Python in core/, app/, widgets/ ({product_files} files); no path outside the repository "
          f"in {', '.join(t + '/' for t in PATH_TOPS)}")
    print(f"  layers: {order}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
