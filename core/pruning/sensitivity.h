#pragma once
// Per-group sensitivity: which layers can lose channels cheaply.
//
// The sweep prunes one group at a time at each ratio (the lowest-scored channels by the
// chosen criterion, under the planners' constraints), measures the validation metric, the
// params, MACs and batch-1 latency of that model, and keeps the unpruned model's figures
// as the baseline. Each cell is an independent cut of the original model: the table
// predicts the cost of a combined plan by adding the groups' drops, which is the
// assumption every sensitivity-guided planner makes (it holds for small drops).
//
// planFromSensitivity then reaches a MACs target with the least predicted metric loss:
// greedily raising the group whose next swept ratio costs the least predicted drop per
// MAC saved, with the combined plan's MACs computed exactly (estimateCost) after each step.
//
// Thread affinity: the caller's (the worker or the CLI). The metric callback runs on it.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "pruning/importance.h"
#include "pruning/planner.h"

namespace prunelab {

struct SensitivityCell {
  double ratio = 0.0;
  int64_t removed = 0;  // channels the cut actually removed (constraints may round)
  double metric = 0.0;
  int64_t params = 0;
  int64_t macs = 0;
  double latencyMs = -1.0;  // -1: not measured
};

struct SensitivityRow {
  std::string group;  // sensitivityKeys(): the group's name, "#N" for a repeated name
  int64_t channels = 0;
  std::vector<SensitivityCell> cells;  // one per swept ratio, in order
};

struct SensitivityTable {
  std::string model;      // what was swept (file or zoo name), for the reader
  std::string metric;     // "top1", "mAP50-95", ...
  std::string criterion;  // importance criterion of the cuts
  int64_t valImages = 0;
  Shape input;            // C x H x W
  double baseline = 0.0;  // the unpruned model's metric
  int64_t params = 0, macs = 0;
  double latencyMs = -1.0;
  std::vector<double> ratios;
  std::vector<SensitivityRow> rows;
  double seconds = 0.0;

  const SensitivityRow* row(const std::string& group) const;  // null when absent
};

struct SensitivityOptions {
  std::vector<double> ratios = {0.1, 0.3, 0.5, 0.7, 0.9};
  ImportanceOptions importance;  // criterion (and calibration batches if it needs them)
  PlanConstraints constraints;
  bool latency = true;  // measure each cell's batch-1 latency (exec/latency.h)
  int latencyIters = 7;
};

// Evaluates a model (eval mode) on the validation subset; higher is better. May be slow.
using SensitivityMetric = std::function<double(const std::shared_ptr<Graph>&)>;
// After each cell: (cells done, cells in all, group, ratio). Return false to cancel: the
// sweep stops and returns the rows finished so far (the last one may be partial).
using SensitivityProgress = std::function<bool(int done, int total, const std::string& group, double ratio)>;

// `model` has shapes inferred at `input`; it is not modified. Throws prunelab::Error for
// ratios outside (0, 1).
SensitivityTable sweepSensitivity(const Graph& model, const Shape& input, const SensitivityMetric& metric,
                                  const SensitivityOptions& options, const SensitivityProgress& progress = {});

// The key of each group in a table: its name (its first source layer), with "#2", "#3", ...
// for the second and later groups of the same name (YOLO's C2f cv1 is the first source of
// both halves of its output), in dependency-analysis order. Indexed by group id.
std::vector<std::string> sensitivityKeys(const DependencyGraph& deps);

// JSON (the `sensitivity --out` file). Reading throws prunelab::Error naming the file.
void writeSensitivityJson(const SensitivityTable& t, const std::string& path);
SensitivityTable readSensitivityJson(const std::string& path);

struct SensitivityPlan {
  PrunePlan plan;
  std::vector<std::pair<std::string, double>> ratios;  // group -> chosen swept ratio (0 omitted)
  double predictedDrop = 0.0;                          // sum of the chosen cells' metric drops
  int64_t macs = 0;                                    // exact, of the combined plan
};

// planFromSensitivity (pruning/planner.h) plans from this table.

}  // namespace prunelab
