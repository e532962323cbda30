"""The harness of the planted-case tests of the repository's checkers (check_layers,
check_function_length, check_adapters): a clean tree the checker must pass, and planted
cases - text appended to one file of a copy of it - each of which it must refuse (exit 1)
with a message naming the file and line.

check(script, clean, planted, clean_must_print=()) returns the process exit code for ctest:
0 when the clean tree passes (printing each of `clean_must_print`) and every plant is caught.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def run(script, root):
    p = subprocess.run([sys.executable, script, "--root", root], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def check(script, clean, planted, clean_must_print=()):
    """`clean`: {relative path: text}; `planted`: [(relative path, text appended, expected message)]."""
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        clean_root = os.path.join(tmp, "clean")
        write_tree(clean_root, clean)
        code, out = run(script, clean_root)
        missing = [m for m in clean_must_print if m not in out]
        if code != 0 or missing:
            print(f"FAIL: the clean tree was refused (exit {code}) or did not print {missing}:\n{out}")
            failures += 1
        else:
            print("ok: the clean tree passes")
        for i, (rel, extra, expected) in enumerate(planted):
            root = os.path.join(tmp, f"planted{i}")
            shutil.copytree(clean_root, root)
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as f:
                f.write(extra)
            code, out = run(script, root)
            if code != 1 or expected not in out:
                print(f"FAIL: {rel} + {extra.strip()[:80]!r}: exit {code}, expected exit 1 naming {expected!r}:\n{out}")
                failures += 1
            else:
                print(f"ok: {expected}")
    print(f"{len(planted)} planted cases, {failures} not caught" if failures else
          f"all {len(planted)} planted cases caught; the clean tree passes")
    return 1 if failures else 0
