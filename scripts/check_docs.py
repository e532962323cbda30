#!/usr/bin/env python3
"""Documentation check (a ctest, `check_docs`; plain python3, no dependencies).

Fails (exit 1), naming file and line, when
  (a) README.md has more than 250 lines (the rest belongs in docs/);
  (b) README.md, BENCHMARKS.md or docs/**/*.md, or a string literal in the sources of
      app/, widgets/ or core/, names a work-log label instead of the thing itself:
      "issue 18", "<!-- issue", "seed 001", "session 9" (any case, also "issues 3",
      "sessions 8-11");
  (c) with --cli PATH: a command that `PATH --help` lists has no section in docs/cli.md
      (a heading naming it as `name`), or an option that `PATH COMMAND --help` prints
      (its first column; `--help` itself excepted) does not appear in that command's
      section (the heading and everything up to the next heading of the same or a higher
      level). Without --cli this check is skipped, and the script says so;
  (d) docs/claims.md cites a test that does not exist: every executable
      (`test_x`, or a ctest name such as `package_deb`) must be registered in
      tests/CMakeLists.txt, every function (`test_x::f`, or a bare `f` after it in the same
      cell) must be defined or named in that executable's sources under tests/, every cited
      path must exist, and every quoted benchmark section must be a heading under
      docs/benchmarks/.

Usage: scripts/check_docs.py [--cli build/app/prunelab-cli] [--root DIR]
"""

import argparse
import os
import re
import subprocess
import sys

README_MAX_LINES = 250
LABEL_RE = re.compile(r"issues? [0-9]+|<!--\s*issue|seed 00[0-9]|sessions? [0-9]+", re.IGNORECASE)
STRING_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"')
SOURCE_DIRS = ("app", "widgets", "core")
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc")


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


def doc_files(root):
    files = [os.path.join(root, "README.md"), os.path.join(root, "BENCHMARKS.md")]
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "docs")):
        dirnames.sort()
        files += [os.path.join(dirpath, n) for n in sorted(filenames) if n.endswith(".md")]
    return [f for f in files if os.path.isfile(f)]


def source_files(root):
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(SOURCE_EXT):
                    yield os.path.join(dirpath, name)


def check_readme_length(root, errors):
    with open(os.path.join(root, "README.md"), encoding="utf-8", errors="replace") as f:
        text = f.read()
    n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)  # as wc -l counts them
    if n > README_MAX_LINES:
        errors.append("README.md: %d lines, more than %d: move the detail into docs/" % (n, README_MAX_LINES))
    return n


def check_labels(root, errors):
    rel = lambda p: os.path.relpath(p, root)
    for path in doc_files(root):
        for lineno, line in enumerate(read_lines(path), 1):
            m = LABEL_RE.search(line)
            if m:
                errors.append("%s:%d: work-log label %r: name the method or the section instead"
                              % (rel(path), lineno, m.group(0)))
    for path in source_files(root):
        for lineno, line in enumerate(read_lines(path), 1):
            if '"' not in line or line.lstrip().startswith("//"):
                continue
            for literal in STRING_RE.findall(line):
                m = LABEL_RE.search(literal)
                if m:
                    errors.append("%s:%d: work-log label %r in a string literal (user-visible text)"
                                  % (rel(path), lineno, m.group(0)))


# --- (c) docs/cli.md against the binary's --help ------------------------------------------

HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def markdown_sections(lines):
    """(level, heading text, first line index, end line index) per heading, fences skipped."""
    heads, fence = [], False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        m = None if fence else HEADING_RE.match(line)
        if m:
            heads.append((len(m.group(1)), m.group(2), i))
    out = []
    for k, (level, text, start) in enumerate(heads):
        end = len(lines)
        for level2, _, start2 in heads[k + 1:]:
            if level2 <= level:
                end = start2
                break
        out.append((level, text, start, end))
    return out


def run_help(cli, args):
    try:
        p = subprocess.run([cli] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, env=dict(os.environ, PRUNELAB_PROGRESS="0"))
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SystemExit("check_docs: cannot run %s %s: %s" % (cli, " ".join(args), e))
    text = p.stdout.decode("utf-8", "replace")
    # A CLI built without the GUI libraries (the sanitizer tree) has no `report`: its
    # --help says so and there are no options to compare.
    if p.returncode != 0 and "built without the GUI" in text:
        return None
    if p.returncode != 0:
        raise SystemExit("check_docs: %s %s exited %d" % (cli, " ".join(args), p.returncode))
    return text


def listed_commands(top_help):
    cmds, inside = [], False
    for line in top_help.splitlines():
        if line.strip() == "commands:":
            inside = True
            continue
        if inside:
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s{2,}\S", line)
            if m:
                cmds.append(m.group(1))
            elif not line.strip():
                break
    return cmds


def printed_options(cmd_help):
    """The option names in the first column of each line of the Options: block."""
    opts, inside = [], False
    for line in cmd_help.splitlines():
        if re.match(r"^\S.*:$", line):
            inside = line.strip() == "Options:"
            continue
        if not inside or not line.startswith("  ") or line.startswith("   "):
            continue
        first_column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        for name in re.findall(r"--[A-Za-z0-9][A-Za-z0-9-]*", first_column):
            if name != "--help" and name not in opts:
                opts.append(name)
    return opts


def check_cli(root, cli, errors):
    path = os.path.join(root, "docs", "cli.md")
    lines = read_lines(path)
    sections = markdown_sections(lines)
    cmds = listed_commands(run_help(cli, ["--help"]))
    if not cmds:
        errors.append("%s --help: no commands found under 'commands:'" % cli)
    checked = 0
    for cmd in cmds:
        found = [s for s in sections if re.search(r"`(?:prunelab-cli )?%s`" % re.escape(cmd), s[1])]
        if not found:
            errors.append("docs/cli.md: no section for the command `%s` (a heading naming it as `%s`)"
                          % (cmd, cmd))
            continue
        _, _, start, end = found[0]
        body = "\n".join(lines[start:end])
        cmd_help = run_help(cli, [cmd, "--help"])
        if cmd_help is None:
            print("docs/cli.md: `%s` not checked (this prunelab-cli was built without the GUI libraries)" % cmd)
            continue
        for opt in printed_options(cmd_help):
            checked += 1
            if not re.search(r"(?<![A-Za-z0-9-])%s(?![A-Za-z0-9-])" % re.escape(opt), body):
                errors.append("docs/cli.md:%d: section `%s` does not mention %s (printed by `prunelab-cli %s --help`)"
                              % (start + 1, cmd, opt, cmd))
    return len(cmds), checked


# --- (d) the claims table cites tests that exist ----------------------------------------------

TEST_SOURCE_EXT = (".cpp", ".h", ".py", ".sh", ".txt", ".cmake")


def registered_tests(root):
    text = "\n".join(read_lines(os.path.join(root, "tests", "CMakeLists.txt")))
    # prunelab_test(test_x ...), prunelab_cli_gui_test(test_y ...): any helper named *_test
    names = set(re.findall(r"\b[A-Za-z0-9_]*_test\(\s*([A-Za-z_][A-Za-z0-9_]*)", text)) - {"NAME"}
    names |= set(re.findall(r"add_test\(\s*NAME\s+([A-Za-z0-9_]+)", text))
    for items in re.findall(r"foreach\(\s*name\s+([^)]*)\)", text):  # add_test(NAME ${name}) loops
        names |= set(items.split())
    return names


def test_sources(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "tests")):
        dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "corpus"))
        for name in sorted(filenames):
            if name.endswith(TEST_SOURCE_EXT):
                out[os.path.join(dirpath, name)] = None
    return list(out)


def executable_sources(root, exe, all_sources):
    """The files of one test executable: tests/**/exe.* and the test-local headers they include."""
    own = [p for p in all_sources if os.path.splitext(os.path.basename(p))[0] == exe]
    seen, todo = set(own), list(own)
    while todo:
        path = todo.pop()
        for inc in re.findall(r'#\s*include\s*"([^"]+)"', "\n".join(read_lines(path))):
            for cand in (os.path.join(os.path.dirname(path), inc), os.path.join(root, "tests", inc)):
                cand = os.path.normpath(cand)
                if os.path.isfile(cand) and cand not in seen:
                    seen.add(cand)
                    todo.append(cand)
    return sorted(seen)


def benchmark_headings(root):
    heads = []
    bench = os.path.join(root, "docs", "benchmarks")
    for name in sorted(os.listdir(bench)) if os.path.isdir(bench) else []:
        if name.endswith(".md"):
            heads += [h[1] for h in markdown_sections(read_lines(os.path.join(bench, name)))]
    return heads


def normalise(text):
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("β", "beta")).strip()


def check_claims(root, errors):
    path = os.path.join(root, "docs", "claims.md")
    if not os.path.isfile(path):
        errors.append("docs/claims.md: missing (the table of claims and the tests behind them)")
        return 0
    tests = registered_tests(root)
    sources = test_sources(root)
    source_text = {}
    headings = [normalise(h) for h in benchmark_headings(root)]
    cited = 0

    def text_of(paths):
        for p in paths:
            if p not in source_text:
                source_text[p] = "\n".join(read_lines(p))
        return "\n".join(source_text[p] for p in paths)

    def function_exists(exe, func):
        files = executable_sources(root, exe, sources) or sources
        return re.search(r"\b%s\b" % re.escape(func), text_of(files)) is not None

    for lineno, line in enumerate(read_lines(path), 1):
        if not re.match(r"^\| C[0-9]+ ", line):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) < 3:
            errors.append("docs/claims.md:%d: a claim row needs three cells" % lineno)
            continue
        cell = cells[1]
        where = "docs/claims.md:%d" % lineno
        exe = None
        for span in re.findall(r"`([^`]+)`", cell):
            span = span.strip()
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)$", span)
            if m:
                exe, func = m.group(1), m.group(2)
                cited += 1
                if exe not in tests:
                    errors.append("%s: `%s` is not a test in tests/CMakeLists.txt" % (where, exe))
                elif not function_exists(exe, func):
                    errors.append("%s: `%s` has no function %s" % (where, exe, func))
                continue
            m = re.match(r"^::([A-Za-z_][A-Za-z0-9_]*)$", span)
            if m:
                cited += 1
                if exe is None:
                    errors.append("%s: `%s` follows no test name" % (where, span))
                elif exe in tests and not function_exists(exe, m.group(1)):
                    errors.append("%s: `%s` has no function %s" % (where, exe, m.group(1)))
                continue
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", span):
                cited += 1
                if span in tests:
                    exe = span
                elif span.isupper():  # a macro the tests use
                    if re.search(r"\b%s\b" % span, text_of(sources)) is None:
                        errors.append("%s: `%s` appears in no test source" % (where, span))
                elif exe is not None:
                    if exe in tests and not function_exists(exe, span):
                        errors.append("%s: `%s` has no function %s" % (where, exe, span))
                else:
                    errors.append("%s: `%s` is not a test in tests/CMakeLists.txt" % (where, span))
                continue
            if "/" in span or span.startswith("."):  # a script or file the row relies on
                cited += 1
                file_part = span.split()[0]
                if not os.path.exists(os.path.join(root, file_part)):
                    errors.append("%s: `%s` does not exist" % (where, file_part))
        # Quoted names outside backticks: a benchmark section, or a row name of a test's table.
        for quoted in re.findall(r'"([^"]+)"', re.sub(r"`[^`]*`", "", cell)):
            key = normalise(quoted)
            if any(h.startswith(key) for h in headings):
                continue
            if quoted in text_of(sources):
                continue
            errors.append('%s: "%s" is neither a benchmark section (docs/benchmarks/) nor a name in a test'
                          % (where, quoted))
    return cited


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", help="prunelab-cli binary: check docs/cli.md against its --help")
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                    help="repository root (default: this script's parent folder)")
    args = ap.parse_args()
    root = os.path.normpath(args.root)
    errors = []
    n = check_readme_length(root, errors)
    print("README.md: %d lines (at most %d)" % (n, README_MAX_LINES))
    check_labels(root, errors)
    print("work-log labels: %d documents and the string literals of %s checked"
          % (len(doc_files(root)), ", ".join(d + "/" for d in SOURCE_DIRS)))
    if args.cli:
        ncmd, nopt = check_cli(root, args.cli, errors)
        print("docs/cli.md against %s: %d commands, %d options" % (args.cli, ncmd, nopt))
    else:
        print("docs/cli.md against prunelab-cli --help: skipped (no --cli given)")
    cited = check_claims(root, errors)
    print("docs/claims.md: %d cited tests, functions and files" % cited)
    for e in errors:
        print("error: " + e)
    if errors:
        print("check_docs: %d problem(s)" % len(errors))
        return 1
    print("check_docs: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
