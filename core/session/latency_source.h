#pragma once
// The per-layer latency table a command or the workbench works with (pruning/latency_table.h):
// the model is cloned, shaped at the input and analysed with the plan's protected and pinned
// scopes, then the table is read from a file measured before (checked against the model) or
// measured now and, when a file is named, written there for the next run. With a latency
// command (session/latency_command.h) the whole model is timed by that command.
//
// Threads: measuring runs on the caller's thread (progress is called there) and times the
// model with the caller's LibTorch thread count.

#include <functional>
#include <string>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "pruning/latency_table.h"
#include "session/latency_command.h"

namespace prunelab {

struct LatencyTableRequest {
  Shape input;            // C x H x W; empty: the model's default input
  int batch = 1;
  std::string name;       // recorded in the table; empty: the model's "model" metadata
  // Read when the file exists (an error when it was measured on another model, input or
  // batch), else measured and written there; empty: measured, kept nowhere.
  std::string file;
  bool refresh = false;   // measure even when `file` exists, and replace it once complete
  DependencyGraph::Options scopes;  // protected/pinned scopes of the plan the table serves
  // The whole-model figures (totalMs, halfMs, hence layerScale and the rest's split) from
  // this command on the deploy target; the per-layer timings stay the executor's (a
  // command per layer and width would take hours). Empty: the executor's.
  LatencyCommand command;
  std::function<void(int done, int total, const std::string& layer)> progress;  // optional
};

LatencyTable obtainLatencyTable(const Graph& model, const LatencyTableRequest& request);

}  // namespace prunelab
