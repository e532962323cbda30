#!/usr/bin/env python3
"""Function and file length check for app/, core/ and widgets/ (run by ctest; plain python3).

Fails (exit 1) listing file:line, the function's first line and its length when a function
body is longer than MAX_FUNCTION_LINES lines (from the line of its opening brace to the line
of its closing brace), or a source file is longer than MAX_FILE_LINES lines.

How a function is found, without a C++ parser: comments, string and character literals are
blanked first; then every `{` opened directly inside a namespace or a class body (or at file
level) whose header - the text since the previous `;`, `{` or `}` - has a `(` and is not a
namespace/class/struct/enum/union or an initialiser (`= {`) opens a function body. Lambdas and
local classes count towards the function that holds them, as they should.
`--root DIR` checks another tree (tests/python/check_function_length_test.py plants a long
function).
"""

import os
import re
import sys

MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 600
FOLDERS = ["app", "core", "widgets"]
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc")

_TYPE_HEAD = re.compile(r"\b(namespace|class|struct|enum|union)\b")


def blank_comments_and_strings(text):
    """Returns text with comments and literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and nxt == '"':
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if m:
                end = text.find(")" + m.group(1) + '"', i)
                j = n if end < 0 else end + len(m.group(1)) + 2
                out.append(re.sub(r"[^\n]", " ", text[i:j]))
                i = j
            else:
                out.append(c)
                i += 1
        elif c in "\"'":
            # a digit separator (1'000) is not a character literal
            if c == "'" and i > 0 and text[i - 1].isalnum() and nxt.isalnum():
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + 1)
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(text, limit=MAX_FUNCTION_LINES):
    """Yields (line, header, length) for every function body longer than `limit` lines."""
    code = blank_comments_and_strings(text)
    # drop preprocessor lines (macros may hold unbalanced braces)
    code = re.sub(r"(?m)^[ \t]*#.*(\\\n.*)*$", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
    stack = []  # entries: "scope" (namespace/class/file-like) or ("function", line, header) or "block"
    header_start = 0
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            header = " ".join(code[header_start:i].split())
            in_scope = all(e == "scope" for e in stack)
            if not in_scope:
                stack.append("block")
            elif _TYPE_HEAD.search(header) and "(" not in header.split("{")[0].split(":")[0]:
                stack.append("scope")
            elif "(" in header and not header.endswith("=") and not re.search(r"=\s*$", header):
                stack.append(("function", line, header))
            elif header.startswith("extern"):
                stack.append("scope")
            else:
                stack.append("block")
            header_start = i + 1
        elif c == "}":
            if stack:
                top = stack.pop()
                if isinstance(top, tuple):
                    length = line - top[1] + 1
                    if length > limit:
                        yield top[1], top[2], length
            header_start = i + 1
        elif c == ";":
            header_start = i + 1


def check(root):
    problems = []
    for folder in FOLDERS:
        base = os.path.join(root, folder)
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if not name.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                lines = text.count("\n") + (0 if text.endswith("\n") else 1)
                if lines > MAX_FILE_LINES:
                    problems.append(f"{rel}: {lines} lines (files stay at or under {MAX_FILE_LINES})")
                for line, header, length in long_functions(text):
                    short = header if len(header) <= 90 else header[:87] + "..."
                    problems.append(f"{rel}:{line}: {length} lines: {short}")
    return problems


def main(argv):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if len(argv) >= 3 and argv[1] == "--root":
        root = argv[2]
    problems = check(os.path.abspath(root))
    if problems:
        print(f"functions over {MAX_FUNCTION_LINES} lines or files over {MAX_FILE_LINES} lines:")
        for p in problems:
            print("  " + p)
        return 1
    print(f"function and file lengths OK (functions <= {MAX_FUNCTION_LINES} lines, files <= {MAX_FILE_LINES})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
