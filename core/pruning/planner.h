#pragma once
// Planners turn importance scores into a PrunePlan under constraints.
//
// Every planner respects: pinned channels stay; at least `minChannels` (and at least 1)
// channels stay in every group; kept counts are rounded up to a multiple of `roundTo`
// (hardware-friendly widths); the lowest-scored channels go first. Groups whose scores
// are NaN (e.g. `bn` on a group without BatchNorm) are left alone.

#include <map>
#include <string>
#include <vector>

#include "pruning/dependency_graph.h"
#include "pruning/prune_plan.h"

namespace prunelab {

using GroupScores = std::vector<std::vector<double>>;

struct PlanConstraints {
  int64_t minChannels = 1;
  int64_t roundTo = 1;
};

// Seed 001: prune floor(amount x channels) of the group created by layer `name`.
PrunePlan planLayerAmount(const DependencyGraph& deps, const GroupScores& scores, const std::string& name,
                          double amount, const PlanConstraints& c);

// Ratio per group, by the first pattern (scope pattern, see graph/scope_pattern.h) that
// matches one of the group's source names; `fallback` for the rest (0 = keep).
PrunePlan planRatios(const DependencyGraph& deps, const GroupScores& scores,
                     const std::vector<std::pair<std::string, double>>& ratios, double fallback,
                     const PlanConstraints& c);

// Seed 002's --percent: one global threshold at the `percent` quantile of all scores
// (meant for `bn` scores); channels below it go.
PrunePlan planGlobalPercent(const DependencyGraph& deps, const GroupScores& scores, double percent,
                            const PlanConstraints& c);
// The highest percent that removes no layer entirely: the fraction of scores below the
// smallest per-group maximum.
double highestSafePercent(const DependencyGraph& deps, const GroupScores& scores);

// Smallest global threshold over per-group normalised scores (score / group mean) whose
// plan reaches `target` MACs (or params) - binary search over the what-if estimate.
PrunePlan planToTarget(const DependencyGraph& deps, const GroupScores& scores, int64_t target, bool params,
                       const PlanConstraints& c);

// Keeps the constraints: the channels of group g to remove when `wanted` of them should go.
std::vector<int64_t> chooseChannels(const Group& g, const std::vector<double>& scores, int64_t wanted,
                                    const PlanConstraints& c);

}  // namespace prunelab
