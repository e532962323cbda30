#include "pruning/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "graph/scope_pattern.h"
#include "util/error.h"

namespace prunelab {

bool scored(const std::vector<double>& s) { return !s.empty() && !std::isnan(s[0]); }

PrunePlan emptyPlan(const DependencyGraph& deps) {
  PrunePlan p;
  p.removed.resize(deps.groups().size());
  return p;
}

namespace {

// A cost for a message: integers as integers (MACs, params), else 3 decimals (ms).
std::string formatCost(double v) {
  if (v == std::floor(v) && std::abs(v) < 9e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

PrunePlan fitted(const DependencyGraph& deps, const GroupScores& scores, const PlanConstraints& c, PrunePlan plan) {
  if (c.fitWidths) c.fitWidths(deps, scores, plan);
  return plan;
}

// Removes channels of each group whose score is below `threshold(g)`.
PrunePlan planBelow(const DependencyGraph& deps, const GroupScores& scores, const std::vector<double>& threshold,
                    const PlanConstraints& c) {
  PrunePlan plan = emptyPlan(deps);
  for (const Group& g : deps.groups()) {
    if (!g.prunable() || !scored(scores[g.id])) continue;
    int64_t below = 0;
    for (int64_t k = 0; k < g.size; ++k) below += !g.pinned[k] && scores[g.id][k] < threshold[g.id];
    plan.removed[g.id] = chooseChannels(g, scores[g.id], below, c);
  }
  return fitted(deps, scores, c, std::move(plan));
}

// The scores a global ranking compares: each group's scores divided by its divisor.
GroupScores rankingScores(const DependencyGraph& deps, const GroupScores& scores, ScoreNormalization n) {
  GroupScores ranking = scores;
  if (n != ScoreNormalization::GroupMean) return ranking;
  const std::vector<double> div = rankingDivisors(deps, scores, n);
  for (const Group& g : deps.groups())
    if (scored(scores[g.id]) && div[g.id] != 1.0)
      for (auto& s : ranking[g.id]) s /= div[g.id];
  return ranking;
}

// Sorted unpinned ranking scores of all scored, prunable groups.
std::vector<double> allRanked(const DependencyGraph& deps, const GroupScores& ranking) {
  std::vector<double> all;
  for (const Group& g : deps.groups())
    if (g.prunable() && scored(ranking[g.id]))
      for (int64_t k = 0; k < g.size; ++k)
        if (!g.pinned[k]) all.push_back(ranking[g.id][k]);
  std::sort(all.begin(), all.end());
  return all;
}

double thresholdAt(const std::vector<double>& sortedAll, double percent) {
  if (percent < 0 || percent >= 1) throw Error("--percent", "must be in [0, 1)");
  if (sortedAll.empty()) throw Error("--percent", "no prunable channels with scores (bn needs BatchNorm layers)");
  return sortedAll[static_cast<size_t>(percent * double(sortedAll.size()))];
}

}  // namespace

ScoreNormalization parseNormalization(const std::string& name) {
  if (name == "auto") return ScoreNormalization::Auto;
  if (name == "none") return ScoreNormalization::None;
  if (name == "mean") return ScoreNormalization::GroupMean;
  throw Error("--normalize", "unknown normalisation '" + name + "' (auto, none, mean)");
}

std::string normalizationName(ScoreNormalization n) {
  switch (n) {
    case ScoreNormalization::Auto: return "auto";
    case ScoreNormalization::None: return "none";
    case ScoreNormalization::GroupMean: return "mean";
  }
  return "auto";
}

bool scoresCompareAcrossLayers(const std::string& criterion) { return criterion == "bn" || criterion == "random"; }

ScoreNormalization resolveNormalization(const PlanConstraints& c, bool target) {
  if (c.normalize != ScoreNormalization::Auto) return c.normalize;
  return target || !c.scoresComparable ? ScoreNormalization::GroupMean : ScoreNormalization::None;
}

std::vector<double> rankingDivisors(const DependencyGraph& deps, const GroupScores& scores, ScoreNormalization n) {
  std::vector<double> div(deps.groups().size(), 1.0);
  if (n != ScoreNormalization::GroupMean) return div;
  for (const Group& g : deps.groups()) {
    if (!scored(scores[g.id])) continue;
    double sum = 0;
    int64_t count = 0;
    for (double s : scores[g.id])
      if (std::isfinite(s)) sum += s, ++count;
    const double mean = sum / double(std::max<int64_t>(count, 1));
    if (mean > 0) div[g.id] = mean;
  }
  return div;
}

int64_t channelsForRatio(double ratio, int64_t size) {
  return static_cast<int64_t>(std::floor(ratio * double(size) + 1e-9));
}

int64_t roundKeep(const Group& g, int64_t keep, const PlanConstraints& c) {
  const int64_t pinned = g.size - g.prunableCount();
  keep = std::max<int64_t>({keep, c.minChannels, int64_t{1}, pinned});
  if (c.roundTo > 1) keep = (keep + c.roundTo - 1) / c.roundTo * c.roundTo;
  return std::min(g.size, keep);
}

std::vector<int64_t> chooseChannels(const Group& g, const std::vector<double>& scores, int64_t wanted,
                                    const PlanConstraints& c) {
  const int64_t keep = roundKeep(g, g.size - wanted, c);
  const int64_t remove = std::max<int64_t>(0, g.size - keep);
  std::vector<int64_t> order;
  for (int64_t k = 0; k < g.size; ++k)
    if (!g.pinned[k]) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] < scores[b]; });
  order.resize(static_cast<size_t>(std::min<int64_t>(remove, static_cast<int64_t>(order.size()))));
  std::sort(order.begin(), order.end());
  return order;
}

bool groupMatches(const DependencyGraph& deps, const Group& g, const std::string& pattern) {
  for (NodeId s : g.sources)
    if (scopeMatches(deps.graph().node(s).name, pattern)) return true;
  return false;
}

PrunePlan planLayerAmount(const DependencyGraph& deps, const GroupScores& scores, const std::string& name,
                          double amount, const PlanConstraints& c) {
  if (amount < 0 || amount >= 1) throw Error("--amount", "must be in [0, 1)");
  const Node* n = deps.graph().findNode(name);
  if (!n) throw Error(name, "no such layer");
  const int g = deps.groupOfSource(n->id);
  if (g < 0) throw Error(name, "creates no prunable channels (not a Conv/Linear, or its outputs are protected)");
  const Group& group = deps.groups()[g];
  if (!group.prunable()) throw Error(name, "its channels are pinned (they reach an output or a protected layer)");
  PrunePlan plan = emptyPlan(deps);
  const int64_t wanted = channelsForRatio(amount, group.size);
  plan.removed[g] = chooseChannels(group, scores[g], wanted, c);
  return fitted(deps, scores, c, std::move(plan));
}

PrunePlan planRatios(const DependencyGraph& deps, const GroupScores& scores,
                     const std::vector<std::pair<std::string, double>>& ratios, double fallback,
                     const PlanConstraints& c) {
  PrunePlan plan = emptyPlan(deps);
  for (const Group& g : deps.groups()) {
    if (!g.prunable() || !scored(scores[g.id])) continue;
    double ratio = fallback;
    for (const auto& [pattern, r] : ratios)
      if (groupMatches(deps, g, pattern)) {
        ratio = r;
        break;
      }
    if (ratio < 0 || ratio >= 1) throw Error(g.name, "prune ratio must be in [0, 1)");
    plan.removed[g.id] = chooseChannels(g, scores[g.id], channelsForRatio(ratio, g.size), c);
  }
  return fitted(deps, scores, c, std::move(plan));
}

PrunePlan planGlobalPercent(const DependencyGraph& deps, const GroupScores& scores, double percent,
                            const PlanConstraints& c) {
  const GroupScores ranking = rankingScores(deps, scores, resolveNormalization(c, false));
  const double threshold = thresholdAt(allRanked(deps, ranking), percent);
  return planBelow(deps, ranking, std::vector<double>(deps.groups().size(), threshold), c);
}

double globalPercentThreshold(const DependencyGraph& deps, const GroupScores& scores, double percent,
                              const PlanConstraints& c) {
  return thresholdAt(allRanked(deps, rankingScores(deps, scores, resolveNormalization(c, false))), percent);
}

double highestSafePercent(const DependencyGraph& deps, const GroupScores& scores, const PlanConstraints& c) {
  const GroupScores ranking = rankingScores(deps, scores, resolveNormalization(c, false));
  double minOfMax = INFINITY;
  std::vector<double> all;
  for (const Group& g : deps.groups()) {
    if (!g.prunable() || !scored(ranking[g.id])) continue;
    double mx = -INFINITY;
    for (int64_t k = 0; k < g.size; ++k)
      if (!g.pinned[k]) {
        mx = std::max(mx, ranking[g.id][k]);
        all.push_back(ranking[g.id][k]);
      }
    minOfMax = std::min(minOfMax, mx);
  }
  if (all.empty()) return 0.0;
  const auto below = std::count_if(all.begin(), all.end(), [&](double s) { return s < minOfMax; });
  return double(below) / double(all.size());
}

PrunePlan planToCost(const DependencyGraph& deps, const GroupScores& scores,
                     const std::function<double(const PrunePlan&)>& cost, double target, const std::string& option,
                     const std::string& unit, const PlanConstraints& c, bool strongestIfUnreachable) {
  // Under Auto each group's scores are divided by their mean, so one threshold compares
  // layers whose weight norms differ in scale.
  const GroupScores norm = rankingScores(deps, scores, resolveNormalization(c, true));
  double lo = 0.0, hi = 0.0;
  for (const auto& s : norm)
    if (scored(s)) hi = std::max(hi, *std::max_element(s.begin(), s.end()));
  hi += 1.0;
  PrunePlan best = planBelow(deps, norm, std::vector<double>(deps.groups().size(), hi), c);
  const double strongest = cost(best);
  if (strongest > target && strongestIfUnreachable) return best;
  if (strongest > target)
    throw Error(option, "unreachable: even the strongest plan leaves " + formatCost(strongest) + " " + unit +
                                " (minimum channels / protected layers)");
  for (int it = 0; it < 40; ++it) {
    const double mid = 0.5 * (lo + hi);
    PrunePlan p = planBelow(deps, norm, std::vector<double>(deps.groups().size(), mid), c);
    if (cost(p) <= target) {
      hi = mid;
      best = std::move(p);
    } else {
      lo = mid;
    }
  }
  return best;
}

PrunePlan planToTarget(const DependencyGraph& deps, const GroupScores& scores, int64_t target, bool params,
                       const PlanConstraints& c) {
  auto cost = [&](const PrunePlan& p) {
    const CostEstimate e = estimateCost(deps, p);
    return double(params ? e.params : e.macs);
  };
  return planToCost(deps, scores, cost, double(target), "--target", params ? "params" : "MACs", c);
}

}  // namespace prunelab
