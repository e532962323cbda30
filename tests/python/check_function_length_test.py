#!/usr/bin/python3
"""scripts/check_function_length.py must fail on a planted long function or file and pass
on a clean tree.

The clean tree holds what a brace counter gets wrong: braces inside strings, raw strings,
comments and character literals, brace initialisers, a class with inline members, a lambda
at namespace scope, an 80-line function (the limit itself). Each planted case adds one
function or file over the limit and the script must exit 1 naming its file and line.
"""
import os
import sys

import planted_tree

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check_function_length.py")


def body(n_lines, indent="  "):
    """A function body of exactly n_lines lines, its braces included."""
    inner = "".join(f"{indent}x += {i};\n" for i in range(n_lines - 2))
    return "{\n" + inner + "}\n"


CLEAN = {
    "core/util/a.cpp": (
        'const char* s = "}}}{";  // a } in a comment\n'
        'const char* r = R"x({ not a brace })x";\n'
        "char c = '{';\n"
        "/* { */\n"
        "namespace ns {\n"
        "struct P { int a{1}; int f() const { return a; } };\n"
        "int limit(int x) " + body(80) +
        "auto lambda = [](int x) { return x + 1; };\n"
        "}  // namespace ns\n"
    ),
    "app/b.cpp": "class W {\n public:\n  W() : m_v{1, 2} {}\n  int m_v[2];\n};\n",
    "widgets/c.h": "#pragma once\n#define MACRO(x) { (x); }\n",
}

PLANTED = [
    # (file, text, what the report must contain)
    ("core/util/long.cpp", "int f(int x) " + body(81), "core/util/long.cpp:1: 81 lines"),
    ("app/cli/cmd.cpp", "namespace {\nclass K {\n  void m() " + body(95, "    ") + "};\n}\n",
     "app/cli/cmd.cpp:3: 95 lines"),
    ("widgets/big.cpp", "".join(f"int v{i} = {i};\n" for i in range(601)), "widgets/big.cpp: 601 lines"),
]


def main():
    return planted_tree.check(SCRIPT, CLEAN, PLANTED)


if __name__ == "__main__":
    sys.exit(main())
