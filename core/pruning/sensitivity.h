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
// Two ways to evaluate a cut (SensitivityOptions::method). Surgery builds the narrowed
// model for every cell. Mask keeps one copy of the model and zeroes, in every channel
// source that reads the group (Conv/Linear weights along their declared in dim), the
// weights of the cut channels, then restores them: every kept channel then computes what
// it computes after surgery, because each op between a group's sources and its readers is
// channel-wise (the dependency analysis pins any op that mixes channels), and the cut
// channels' own values - the unpruned model's, so finite - reach nothing but zero weights.
// Zeroing the producers instead would not do: a Sigmoid, a Div or a BN of zeroed channels
// does not give zero. The metric sees the same numbers up to the order of the float sums
// inside the convolutions. Latency needs the narrowed model, so with latency on the Mask
// method still builds it, but only to time it.
//
// A group's series stops once a cut has collapsed (the metric at or below the floor,
// SensitivityOptions::stopBelow): the higher ratios repeat that cut's metric, marked as not
// measured, since removing more channels of a broken layer does not mend it.
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
  // False when the metric is the collapsed value of a lower ratio, not this cut's own
  // (params, MACs and latency are still this cut's).
  bool measured = true;
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
  std::string method;      // "mask" | "surgery" ("" in tables written before there were two)
  double stopBelow = 0.0;  // the options' fraction (0: every cell measured)

  const SensitivityRow* row(const std::string& group) const;  // null when absent
};

enum class SensitivityMethod { Mask, Surgery };
const char* sensitivityMethodName(SensitivityMethod m);
SensitivityMethod parseSensitivityMethod(const std::string& name);  // "mask" | "surgery"; Error otherwise

struct SensitivityOptions {
  std::vector<double> ratios = {0.1, 0.3, 0.5, 0.7, 0.9};
  SensitivityMethod method = SensitivityMethod::Mask;
  // A cut whose metric is at or below max(chance, stopBelow x baseline) ends its group's
  // series; 0 measures every cell. `chance` is what a model that guesses scores (the
  // Session sets 1/classes for top-1; 0 for mAP).
  double stopBelow = 0.05;
  double chance = 0.0;
  // The groups to sweep, by sensitivityKeys() key; empty: every prunable scored group.
  // Throws prunelab::Error naming a key the model does not have.
  std::vector<std::string> groups;
  ImportanceOptions importance;  // criterion (and calibration batches if it needs them)
  PlanConstraints constraints;
  bool latency = true;  // measure each cell's batch-1 latency (exec/latency.h)
  int latencyIters = 7;
};

// Evaluates a model (eval mode) on the validation subset; higher is better. May be slow.
// With the Mask method every call gets the same graph, its weights zeroed differently.
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
