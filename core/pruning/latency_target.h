#pragma once
// prune --target-latency: a latency table predicts, the executor decides. The table's
// prediction of a pruned model is off by some percent (isolated layer timings, the memory-
// bound ops' share), so the planner's goal is corrected by measuring what it produces (a
// bracketing search over the goal, see the .cpp), until the measured latency is within
// `tolerance` of the target or `rounds` models were built; the closest one is chosen. The caller then plans once more at the returned
// goal (planning is deterministic), so only the chosen model enters the history.
//
// Thread affinity: runs pruning and inference on the calling thread.

#include <functional>
#include <vector>

#include "pruning/pruner.h"

namespace prunelab {

struct LatencyRound {
  double goalMs = 0;       // what the table-driven planner aimed at
  double predictedMs = 0;  // the table's prediction of the plan it made
  double measuredMs = 0;   // the pruned model, measured (lower quartile)
  int64_t macs = 0;
};

struct LatencyGoal {
  double targetMs = 0;
  double goalMs = 0;  // plan at this (PruneRequest::targetLatencyMs) to get the chosen model
  double measuredMs = 0;
  std::vector<LatencyRound> rounds;
};

struct LatencyGoalOptions {
  int rounds = 6;
  double tolerance = 0.04;  // stop when |measured - target| <= tolerance x target
  int iters = 15;           // runs per latency measurement
  // Latency of a pruned model at the table's batch and input; empty: the executor's.
  std::function<double(Graph&)> measure;
  std::function<void(const LatencyRound&)> onRound;  // optional progress
};

// `request` must be Mode::TargetLatency with its table; its targetLatencyMs is the target.
LatencyGoal aimAtLatency(const Graph& graph, const PruneRequest& request, const LatencyGoalOptions& options = {});

}  // namespace prunelab
