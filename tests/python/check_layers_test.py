#!/usr/bin/python3
"""scripts/check_layers.py must fail on each planted violation and pass on a clean tree.

Builds a small tree (core/util, core/graph, app/, widgets/) in a temporary directory,
checks that it passes, then plants one violation at a time and checks that the script
exits 1 naming the file and line: an upward include, a cycle, a core folder missing from
LAYERS, Qt in core/, LibTorch in widgets/, a Python launch or include in the product, and a
path outside the repository in source, tests or scripts (absolute personal or site paths, a
named file under /tmp, a relative path climbing above the root or to a folder beside it, the
user's home in a test). The clean tree holds the paths that are allowed: system paths, the
bare /tmp, mktemp templates, includes and __file__-relative joins inside the tree, a "/.."
appended to a variable, and a line marked "check_layers: path ok".
"""
import os
import sys

import planted_tree

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check_layers.py")

CLEAN = {
    "core/util/error.h": '#pragma once\n#include <string>\n',
    "core/graph/graph.h": '#pragma once\n#include "util/error.h"\n',
    # A comment naming Python is not a launch.
    "core/util/npy.cpp": '#include "util/error.h"\n// Python tuple syntax: "(5,)"\n',
    "app/main.cpp": '#include <QApplication>\n#include "graph/graph.h"\nint main() { return 0; }\n',
    "widgets/panel.cpp": '#include <QWidget>\n',
    # Paths that are fine: system paths, the scratch /tmp, a mktemp template, relative paths
    # that stay inside the tree, "/.." after a variable, a marked hostile input.
    "tests/unit/test_x.cpp": ('#include "../support/h.h"\n'
                              'const char* py = "/usr/bin/python3"; const char* n = "/dev/null";\n'
                              'const char* s = "/usr/share/datasets/fashion-mnist"; const char* p = "/proc/self/status";\n'
                              'const char* t = "/tmp"; std::string gt = dir + "/../../labels/val";\n'
                              '// A split that climbs into /dev, which must be refused. check_layers: path ok\n'
                              'const char* bad = "train: ../../../../../../dev";\n'),
    "tests/support/h.h": '#pragma once\n',
    "tests/python/t.py": ('import os\nHERE = os.path.dirname(__file__)\n'
                          'SCRIPT = os.path.join(HERE, "..", "..", "scripts", "x.py")\n'),
    "scripts/x.sh": ('cd "$(dirname "$0")/.."\nwork=$(mktemp -d /tmp/prunelab.XXXXXX)\n'
                     'out="${TMPDIR:-/tmp}"\nsrc="$here/../.."\n'),
    ".ci/run": 'python3 scripts/check_layers.py\n',
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
    # Paths outside the repository.
    ("tests/unit/test_x.cpp", 'const char* ref = "/scratch/data/ref.npy";\n',
     "tests/unit/test_x.cpp:7: names a path outside the repository: absolute path under /scratch"),
    ("tests/python/t.py", 'DATA = "/home/alice/datasets/coco"\n',
     "tests/python/t.py:4: names a path outside the repository: absolute path under /home"),
    ("scripts/x.sh", 'cp /tmp/golden/out.txt build/\n',
     "scripts/x.sh:5: names a path outside the repository: a named path in /tmp: /tmp/golden/out.txt"),
    ("app/main.cpp", 'const char* lib = "/opt/vendor/lib";\n',
     "app/main.cpp:4: names a path outside the repository: absolute path under /opt"),
    ("tests/unit/test_x.cpp", 'const char* shared = "../shared/weights.plm";\n',
     "tests/unit/test_x.cpp:7: names a path outside the repository: ../shared/weights.plm is relative to the working"),
    ("tests/python/t.py", 'SHARED = os.path.join(HERE, "..", "..", "shared")\n',
     "tests/python/t.py:4: names a path outside the repository: ../../shared names shared beside the repository's root"),
    ("scripts/x.sh", '"../../$GUI" --demo\n', "scripts/x.sh:5: names a path outside the repository: ../../ climbs 2"),
    ("tests/python/t.py", 'OTHER = os.path.join(HERE, "..", "..", "..", "other")\n',
     "tests/python/t.py:4: names a path outside the repository: ../../../other climbs 3"),
    (".ci/run", 'cat /root/.netrc\n', ".ci/run:2: names a path outside the repository: absolute path under /root"),
    ("installer/deps.sh", 'apt-get install ../../debs/x.deb\n',
     "installer/deps.sh:1: names a path outside the repository: ../../debs climbs 2"),
    ("tests/gui/test_g.cpp", 'QString d = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);\n',
     "tests/gui/test_g.cpp:1: names a path outside the repository: the user's home"),
    ("tests/python/t.py", 'CACHE = os.path.expanduser("~/.cache/prunelab")\n',
     "tests/python/t.py:4: names a path outside the repository: the user's home"),
]


def main():
    return planted_tree.check(SCRIPT, CLEAN, PLANTED)


if __name__ == "__main__":
    sys.exit(main())
