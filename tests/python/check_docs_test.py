#!/usr/bin/python3
"""scripts/check_docs.py must fail on each planted problem and pass on a clean tree.

Builds a small tree (README.md, BENCHMARKS.md, docs/, a claims table, tests/, core/) and a
stand-in prunelab-cli that prints --help as CLI11 does, checks that the script passes, then
plants one problem at a time and checks that it exits 1 naming the file and the problem:
a README over 250 lines, work-log labels in a document and in a string literal (a comment
is allowed), a command or an option missing from docs/cli.md, and a claims row citing a
test, function, file or benchmark section that does not exist.
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check_docs.py")

FAKE_CLI = r'''#!/usr/bin/env python3
import sys
if sys.argv[1:] == ["--help"]:
    print("usage: prunelab-cli COMMAND [options]\n\ncommands:\n  info   a table of a model\n"
          "  prune  pruning\n\nexit codes: 0 ok")
elif sys.argv[1:] == ["info", "--help"]:
    print("a table\nusage: prunelab-cli info --model M\n\nOptions:\n  -h,--help        show this help\n"
          "  --model NAME (required)  the model\n  --num-classes,--nc N     classes (see --weights)\n")
elif sys.argv[1:] == ["prune", "--help"]:
    print("pruning\n\nOptions:\n  -h,--help        show this help\n  --model NAME     the model\n"
          "  --yaml-widths    widths a YAML can state\n")
else:
    sys.exit(2)
'''

CLEAN = {
    "README.md": "# PruneLab\n\nShort.\n",
    "BENCHMARKS.md": "# Benchmarks\n\n- [pruning](docs/benchmarks/pruning.md)\n",
    "docs/benchmarks/pruning.md": "# Pruning\n\n## Pruning speed vs Torch-Pruning\n\nFigures.\n",
    "docs/cli.md": ("# CLI\n\n## `info`\n\n`--model`, `--num-classes` (`--nc`).\n\n"
                    "## `prune`\n\n`--model`\n\n### Widths\n\n`--yaml-widths` keeps widths.\n"),
    "docs/claims.md": ("# Claims\n\n| claim | test | asserts |\n|---|---|---|\n"
                       "| C1 [CLI] x | `test_a::firstCase`, `secondCase`; `::thirdCase`; `tests/unit/test_a.cpp` | y |\n"
                       "| C2 [CLI] z | `test_a` (\"row one\"); \"Pruning speed\" | w |\n"
                       "| C3 [Workbench] v | `test_g::guiCase` | u |\n"),
    "tests/CMakeLists.txt": "prunelab_test(test_a)\nprunelab_cli_gui_test(test_g TIMEOUT 900)\n",
    "tests/gui/test_g.cpp": "void guiCase();\n",
    "tests/unit/test_a.cpp": ('void firstCase();\nvoid secondCase();\nvoid thirdCase();\n'
                              'const char* rows[] = {"row one"};\n'),
    # A comment may name an issue; a string literal may not.
    "core/util/x.cpp": '// issue 18: a comment\nconst char* help = "refit (He et al. 2017)";\n',
}

PLANTED = [
    # (file, text appended or (old, new) replaced, what the output must contain)
    ("README.md", "line\n" * 250, "README.md: 253 lines, more than 250"),
    ("docs/cli.md", "\nSee issue 18 for this.\n", "docs/cli.md:15: work-log label 'issue 18'"),
    ("BENCHMARKS.md", "<!-- issue 18: ORT -->\n", "BENCHMARKS.md:4: work-log label '<!-- issue'"),
    ("docs/benchmarks/pruning.md", "Session 9 runs.\n", "docs/benchmarks/pruning.md:6: work-log label 'Session 9'"),
    ("core/util/x.cpp", 'const char* tip = "Seed 000 style";\n', "core/util/x.cpp:3: work-log label 'Seed 000' in a string literal"),
    ("docs/cli.md", ("## `prune`", "## prune"), "no section for the command `prune`"),
    ("docs/cli.md", ("`--yaml-widths` keeps", "It keeps"), "section `prune` does not mention --yaml-widths"),
    ("docs/cli.md", ("(`--nc`)", ""), "section `info` does not mention --nc"),
    ("docs/claims.md", ("test_a::firstCase", "test_b::firstCase"), "`test_b` is not a test in tests/CMakeLists.txt"),
    ("docs/claims.md", ("`secondCase`", "`secondCaze`"), "`test_a` has no function secondCaze"),
    ("docs/claims.md", ("`::thirdCase`", "`::thirdCaze`"), "`test_a` has no function thirdCaze"),
    ("docs/claims.md", ("tests/unit/test_a.cpp", "tests/unit/test_z.cpp"), "`tests/unit/test_z.cpp` does not exist"),
    ("docs/claims.md", ("\"Pruning speed\"", "\"Pruning sped\""), '"Pruning sped" is neither a benchmark section'),
    ("docs/claims.md", ("\"row one\"", "\"row two\""), '"row two" is neither a benchmark section'),
]


def write_tree(root):
    for rel, text in CLEAN.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    cli = os.path.join(root, "fake-cli")
    with open(cli, "w") as f:
        f.write(FAKE_CLI)
    os.chmod(cli, os.stat(cli).st_mode | stat.S_IXUSR)
    return cli


def run(root, cli):
    p = subprocess.run([sys.executable, SCRIPT, "--root", root, "--cli", cli],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode()


def main():
    failures = 0
    tmp = tempfile.mkdtemp(prefix="check_docs_test.")
    try:
        root = os.path.join(tmp, "clean")
        cli = write_tree(root)
        code, out = run(root, cli)
        if code != 0:
            print("FAIL clean tree: exit %d\n%s" % (code, out))
            failures += 1
        else:
            print("PASS clean tree")
        for i, (rel, change, expected) in enumerate(PLANTED):
            root = os.path.join(tmp, "planted%d" % i)
            cli = write_tree(root)
            path = os.path.join(root, rel)
            with open(path) as f:
                text = f.read()
            if isinstance(change, tuple):
                assert change[0] in text, change
                text = text.replace(change[0], change[1])
            else:
                text += change
            with open(path, "w") as f:
                f.write(text)
            code, out = run(root, cli)
            if code == 1 and expected in out:
                print("PASS %s: %s" % (rel, expected))
            else:
                print("FAIL %s: expected exit 1 and %r, got exit %d:\n%s" % (rel, expected, code, out))
                failures += 1
    finally:
        shutil.rmtree(tmp)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
