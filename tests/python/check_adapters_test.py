#!/usr/bin/python3
"""scripts/check_adapters.py must fail on each planted adapter doing the Session's work and
pass on a clean tree.

The clean tree is a command that calls the Session and prints; each plant is a line of the
kind the front ends once held themselves: an evaluation loader with its own batch default,
an evaluation, a class-count rebuild keyed on metadata, a latency table measured in place.
The script must exit 1 naming the file and line, and list the Session calls it found.
"""
import os
import sys

import planted_tree

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check_adapters.py")

CLEAN = {
    "app/cli/cmd_eval.cpp": (
        "int runEval() {\n"
        "  Session session;\n"
        "  session.openData(spec);\n"
        "  const EvalReport r = session.evaluate(req);  // DataLoader in a comment is fine\n"
        "  int workers = LoaderOptions{}.workers;\n"
        "  return 0;\n}\n"),
    "app/gui/worker.cpp": (
        "void Worker::latencyTable() {\n"
        "  auto t = m->session.latencyTable(request);\n"
        "  post([w] { w->latencyTable(); });\n}\n"),
}

PLANTED = [
    # (file, line appended, what the report must contain)
    ("app/cli/cmd_eval.cpp", "  DataLoader loader(cls.val, lo);\n", "app/cli/cmd_eval.cpp:8: builds a data loader"),
    ("app/cli/cmd_eval.cpp", "  LoaderOptions lo;\n", "app/cli/cmd_eval.cpp:8: sets up a data loader"),
    ("app/cli/cmd_eval.cpp", "constexpr int64_t kEvalBatchDetect = 32;\n", "app/cli/cmd_eval.cpp:8: names an evaluation batch"),
    ("app/cli/cmd_eval.cpp", "  const ClassifyMetrics m = evaluateClassifier(*graph, loader, dev);\n",
     "app/cli/cmd_eval.cpp:8: evaluates a model itself"),
    ("app/gui/worker.cpp", "  if (h.current().metadata().at(\"num_classes\") != n) rebuild();\n",
     "app/gui/worker.cpp:5: decides a class-count transfer itself"),
    ("app/gui/worker.cpp", "  auto t = prunelab::measureLatencyTable(g, deps, input, name, o);\n",
     "app/gui/worker.cpp:5: measures a latency table itself"),
    ("app/cli/latency_table_file.cpp", "  LatencyTable t = measureLatencyTable(graph, deps, input, name, o);\n",
     "app/cli/latency_table_file.cpp:1: measures a latency table itself"),
    ("app/cli/cmd_export.cpp", "  const Graph back = importOnnx(out);\n", "app/cli/cmd_export.cpp:1: checks an export itself"),
]


def main():
    return planted_tree.check(SCRIPT, CLEAN, PLANTED,
                              clean_must_print=["app/cli/cmd_eval.cpp: openData, evaluate", "app/gui/worker.cpp: latencyTable"])


if __name__ == "__main__":
    sys.exit(main())
