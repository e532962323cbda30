#pragma once
// prune --target-latency: a latency table predicts, a measurement decides. The table's
// prediction of a pruned model is off by some percent (isolated layer timings, the memory-
// bound ops' share, another runtime's costs), so the planner's goal is corrected by measuring
// what it produces (a bracketing search over the goal, see the .cpp), until the measured
// latency is within `tolerance` of the target or `rounds` models were built; the closest one
// is chosen. The caller then plans once more at the returned goal with
// PruneRequest::strongestIfUnreachable (planning is deterministic), so only the chosen model
// enters the history.
//
// Under load the machine's speed drifts between measurements, so every round measures the
// unpruned model and then the candidate, back to back; a target given as a fraction of the
// unpruned latency is re-derived from that round's baseline. "Unreachable" is decided by a
// measurement: only when the strongest plan measured above the target (twice, or in the last
// round) and no plan measured at or below it; a goal below the table's predicted floor plans
// the strongest plan and measures it.
//
// Thread affinity: runs pruning and inference (or the measuring command) on the calling thread.

#include <functional>
#include <vector>

#include "pruning/pruner.h"

namespace prunelab {

struct LatencyRound {
  double goalMs = 0;       // what the table-driven planner aimed at
  double predictedMs = 0;  // the table's prediction of the plan it made
  double measuredMs = 0;   // the pruned model, measured
  double baselineMs = 0;   // the unpruned model, measured just before it
  double targetMs = 0;     // the target this round (moves with baselineMs for a fraction)
  bool strongest = false;  // the goal was below the table's floor: the strongest plan
  int pairs = 1;           // baseline + candidate measurements averaged (2: a confirmed landing)
  int64_t macs = 0;
};

struct LatencyGoal {
  double targetMs = 0;    // of the chosen round
  double goalMs = 0;      // plan at this (PruneRequest::targetLatencyMs) to get the chosen model
  double measuredMs = 0;  // the chosen model
  double baselineMs = 0;  // the unpruned model, in the chosen round
  std::vector<LatencyRound> rounds;
};

struct LatencyGoalOptions {
  int rounds = 6;
  double tolerance = 0.04;  // stop when |measured - target| <= tolerance x target
  // A round that lands within the tolerance measures the pair once more and is judged on
  // the mean (a busy machine's lucky measurement is not a landing).
  bool confirm = true;
  int iters = 15;           // runs per latency measurement
  // > 0: the target is this fraction of the unpruned model's measured latency, re-derived
  // every round; 0: PruneRequest::targetLatencyMs, fixed.
  double targetFraction = 0;
  // Latency of a model at the table's batch and input; empty: the executor's
  // (session/latency_command.h makes one that runs a command on the deploy target).
  std::function<double(Graph&)> measure;
  std::function<void(const LatencyRound&)> onRound;  // optional progress
};

// `request` must be Mode::TargetLatency with its table; its targetLatencyMs is the target
// (unless options.targetFraction). Throws "unreachable" as described above.
LatencyGoal aimAtLatency(const Graph& graph, const PruneRequest& request, const LatencyGoalOptions& options = {});

}  // namespace prunelab
