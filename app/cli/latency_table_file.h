#pragma once
// The latency table a command works with: read from --latency-table FILE when the file
// exists (checked against the model), else measured now (with a progress line) and, when
// FILE is given, written there for the next run.

#include <string>

#include "pruning/latency_table.h"

namespace prunelab::cli {

struct LatencyTableSource {
  std::string path;  // "" : measure, keep nothing
  int batch = 1;
  bool quiet = false;  // no progress line (--json)
};

// Measures the table now, with a progress line unless `quiet`.
LatencyTable measureWithProgress(const Graph& graph, const DependencyGraph& deps, const Shape& input,
                                 const std::string& modelName, int batch, bool quiet);

LatencyTable obtainLatencyTable(const LatencyTableSource& source, const Graph& graph, const DependencyGraph& deps,
                                const Shape& input, const std::string& modelName);

}  // namespace prunelab::cli
