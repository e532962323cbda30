#!/usr/bin/python3
"""scripts/check_layers.py must fail on each planted violation and pass on a clean tree.

Builds a small tree (core/util, core/graph, app/, widgets/) in a temporary directory,
checks that it passes, then plants one violation at a time and checks that the script
exits 1 naming the file and line: an upward include, a cycle, a core folder missing from
LAYERS, Qt in core/, LibTorch in widgets/, and a Python launch or include in the product.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check_layers.py")

CLEAN = {
    "core/util/error.h": '#pragma once\n#include <string>\n',
    "core/graph/graph.h": '#pragma once\n#include "util/error.h"\n',
    # A comment naming Python is not a launch.
    "core/util/npy.cpp": '#include "util/error.h"\n// Python tuple syntax: "(5,)"\n',
    "app/main.cpp": '#include <QApplication>\n#include "graph/graph.h"\nint main() { return 0; }\n',
    "widgets/panel.cpp": '#include <QWidget>\n',
}

PLANTED = [
    # (file, text appended, what the message must contain)
    ("core/util/error.h", '#include "graph/graph.h"\n', "core/util/error.h:3"),  # upward and a cycle
    ("core/newfolder/x.cpp", '#include "util/error.h"\n', "core/newfolder/: folder is not in LAYERS"),
    ("core/graph/graph.h", '#include <QString>\n', "core/graph/graph.h:3: core includes Qt"),
    ("widgets/panel.cpp", '#include <torch/torch.h>\n', "widgets/panel.cpp:2: widgets includes LibTorch"),
    ("app/main.cpp", 'void f() { QProcess::execute("python3", {"-c", "1"}); }\n',
     "app/main.cpp:4: the product would run Python"),
    ("core/graph/graph.cpp", 'int r = std::system("/usr/bin/python tools/x.py");\n',
     "core/graph/graph.cpp:1: the product would run Python"),
    ("widgets/panel.cpp", '#include <Python.h>\n', "widgets/panel.cpp:2: the product would run Python"),
]


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def run(root):
    p = subprocess.run([sys.executable, SCRIPT, "--root", root], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        clean = os.path.join(tmp, "clean")
        write_tree(clean, CLEAN)
        code, out = run(clean)
        if code != 0:
            print("FAIL: the clean tree was refused:\n" + out)
            failures += 1
        for i, (rel, extra, expected) in enumerate(PLANTED):
            root = os.path.join(tmp, f"planted{i}")
            shutil.copytree(clean, root)
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as f:
                f.write(extra)
            code, out = run(root)
            if code != 1 or expected not in out:
                print(f"FAIL: {rel} + {extra.strip()!r}: exit {code}, expected exit 1 naming {expected!r}:\n{out}")
                failures += 1
            else:
                print(f"ok: {expected}")
    print(f"{len(PLANTED)} planted violations, {failures} not caught" if failures else
          f"all {len(PLANTED)} planted violations caught; the clean tree passes")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
