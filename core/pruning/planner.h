#pragma once
// Planners turn importance scores into a PrunePlan under constraints. This header lists
// every planner, and they are the one place plans are made: `prunelab-cli prune` (through runPruning) and the workbench's
// what-if (gui/PruneModel) call these same functions, so equal scores and equal
// constraints give equal plans on both sides.
//
// Every planner respects: pinned channels stay; at least `minChannels` (and at least 1)
// channels stay in every group; kept counts are rounded up to a multiple of `roundTo`
// (hardware-friendly widths; a group narrower than that keeps its full width); the
// lowest-scored channels go first. Groups whose scores are NaN (e.g. `bn` on a group
// without BatchNorm) are left alone.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pruning/dependency_graph.h"
#include "pruning/prune_plan.h"

namespace prunelab {

using GroupScores = std::vector<std::vector<double>>;

// How the planners that rank channels of different layers against each other (global
// percent, MACs/params target) compare scores. Per-layer planners rank within one group,
// where dividing by a positive group constant changes nothing.
enum class ScoreNormalization {
  Auto,       // each planner's own convention: a global percent ranks raw scores (Network
              // Slimming's global |gamma| threshold), a cost target ranks by GroupMean
  None,       // raw scores: right when they are comparable across layers (bn after sparse training)
  GroupMean,  // score / mean score of its group (Torch-Pruning's normalizer="mean"): weight
              // norms and activations differ in scale from layer to layer
};
ScoreNormalization parseNormalization(const std::string& name);  // auto, none, mean; throws listing them
std::string normalizationName(ScoreNormalization n);

// A last step every planner hands its plan to: moves kept counts to widths the model's own
// definition can express (models/yolo/yolo_yaml_widths.h for a YOLO YAML), choosing
// channels by `scores`. Runs on the planner's thread; must not grow a plan past a group's
// size or remove pinned channels.
using PlanWidthFit = std::function<void(const DependencyGraph&, const GroupScores&, PrunePlan&)>;

struct PlanConstraints {
  int64_t minChannels = 1;
  int64_t roundTo = 1;
  ScoreNormalization normalize = ScoreNormalization::Auto;
  // Whether the criterion's raw scores compare across layers (|gamma| of `bn`, `random`):
  // Auto ranks a global percent by raw scores only then, by GroupMean otherwise (weight
  // norms and activations differ in scale from layer to layer; ranking them raw empties
  // whole layers). Callers set it from the criterion (scoresCompareAcrossLayers).
  bool scoresComparable = true;
  // Null: any width. Set: applied to every plan (cost targets search over fitted plans).
  PlanWidthFit fitWidths;
};

// True for criteria whose raw scores compare across layers: bn and random.
bool scoresCompareAcrossLayers(const std::string& criterion);

// Whether a group's scores can rank its channels (NaN: `bn` on a group without BatchNorm);
// every planner, and the sensitivity sweep, leave unscored groups alone.
bool scored(const std::vector<double>& groupScores);
// A plan that removes nothing, sized for `deps`.
PrunePlan emptyPlan(const DependencyGraph& deps);

// Seed 001: prune floor(amount x channels) of the group created by layer `name`.
PrunePlan planLayerAmount(const DependencyGraph& deps, const GroupScores& scores, const std::string& name,
                          double amount, const PlanConstraints& c);

// Ratio per group, by the first pattern (scope pattern, see graph/scope_pattern.h) that
// matches one of the group's source names; `fallback` for the rest (0 = keep).
PrunePlan planRatios(const DependencyGraph& deps, const GroupScores& scores,
                     const std::vector<std::pair<std::string, double>>& ratios, double fallback,
                     const PlanConstraints& c);

// Whether `pattern` (a scope pattern, as in --ratios) names one of group g's sources. A
// layer may be a source of several groups (YOLO's C2f cv1: both halves of its output).
bool groupMatches(const DependencyGraph& deps, const Group& g, const std::string& pattern);

// Seed 002's --percent: one global threshold at the `percent` quantile of all ranking
// scores (see ScoreNormalization; raw under Auto); channels below it go.
PrunePlan planGlobalPercent(const DependencyGraph& deps, const GroupScores& scores, double percent,
                            const PlanConstraints& c);
// That threshold, in ranking units (divide by rankingDivisors() to get a group's score units).
double globalPercentThreshold(const DependencyGraph& deps, const GroupScores& scores, double percent,
                              const PlanConstraints& c);
// The highest percent that removes no layer entirely: the fraction of ranking scores
// below the smallest per-group maximum (ranked as planGlobalPercent ranks).
double highestSafePercent(const DependencyGraph& deps, const GroupScores& scores, const PlanConstraints& c = {});

// Smallest global threshold over ranking scores (GroupMean under Auto) whose plan's
// `cost` is at most `target` - binary search; `cost` must not grow as the threshold rises
// (more channels removed). The "unreachable" error names `option` and the cost's `unit`;
// with `strongestIfUnreachable` the strongest plan is returned instead (a caller that
// measures what it plans, where a prediction alone must not decide).
PrunePlan planToCost(const DependencyGraph& deps, const GroupScores& scores,
                     const std::function<double(const PrunePlan&)>& cost, double target, const std::string& option,
                     const std::string& unit, const PlanConstraints& c, bool strongestIfUnreachable = false);

// planToCost on the what-if estimate: `target` MACs (or params).
PrunePlan planToTarget(const DependencyGraph& deps, const GroupScores& scores, int64_t target, bool params,
                       const PlanConstraints& c);

// What a global ranking divides group g's scores by: its mean under GroupMean (when
// positive), else 1. `n` is resolved already (None or GroupMean).
std::vector<double> rankingDivisors(const DependencyGraph& deps, const GroupScores& scores, ScoreNormalization n);
// Auto resolved for the global percent (`target` false: None when the scores compare across
// layers, else GroupMean) or a cost target (`target` true: GroupMean).
ScoreNormalization resolveNormalization(const PlanConstraints& c, bool target);

// floor(ratio x size), forgiving the last bit of floating-point error: 0.29 x 100 is
// 28.999999999999996 in doubles, and whoever typed 0.29 means 29 channels.
int64_t channelsForRatio(double ratio, int64_t size);

// The channel count group g keeps when `keep` are asked for: raised to the minimum
// (minChannels, 1, the pinned channels), then rounded up to a multiple of roundTo,
// capped at the group's size. Every planner keeps exactly this many.
int64_t roundKeep(const Group& g, int64_t keep, const PlanConstraints& c);

// Keeps the constraints: the channels of group g to remove when `wanted` of them should go.
std::vector<int64_t> chooseChannels(const Group& g, const std::vector<double>& scores, int64_t wanted,
                                    const PlanConstraints& c);

// Planners fed by a measurement of their own, listed here with the rest; their inputs'
// types live with the measurements (pruning/latency_table.h, pruning/sensitivity.h).
struct LatencyTable;
struct SensitivityTable;
struct SensitivityPlan;

// The plan with the least channels cut (one global threshold, as planToTarget ranks) whose
// predicted latency (LatencyTable) is at most `targetMs`; below what any plan is predicted
// to reach: "unreachable", or the strongest plan with `strongestIfUnreachable`.
PrunePlan planToLatency(const DependencyGraph& deps, const GroupScores& scores, const LatencyTable& table,
                        double targetMs, const PlanConstraints& c, bool strongestIfUnreachable = false);

// The plan reaching `targetMacs` with the least metric drop a sensitivity sweep predicts.
// `deps` and `scores` are the model's (the one the table was made on: its MACs must match
// the table's). Throws prunelab::Error when the table is for another model or the target
// cannot be reached with the swept ratios.
SensitivityPlan planFromSensitivity(const SensitivityTable& table, const DependencyGraph& deps,
                                    const GroupScores& scores, int64_t targetMacs, const PlanConstraints& c);

}  // namespace prunelab
