#include "pruning/planner.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "graph/scope_pattern.h"
#include "util/error.h"

namespace prunelab {

namespace {

bool scored(const std::vector<double>& s) { return !s.empty() && !std::isnan(s[0]); }

PrunePlan emptyPlan(const DependencyGraph& deps) {
  PrunePlan p;
  p.removed.resize(deps.groups().size());
  return p;
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
  return plan;
}

}  // namespace

std::vector<int64_t> chooseChannels(const Group& g, const std::vector<double>& scores, int64_t wanted,
                                    const PlanConstraints& c) {
  const int64_t pinned = g.size - g.prunableCount();
  int64_t keep = std::max<int64_t>({g.size - wanted, c.minChannels, int64_t{1}, pinned});
  if (c.roundTo > 1) keep = std::min(g.size, (keep + c.roundTo - 1) / c.roundTo * c.roundTo);
  const int64_t remove = std::max<int64_t>(0, g.size - keep);
  std::vector<int64_t> order;
  for (int64_t k = 0; k < g.size; ++k)
    if (!g.pinned[k]) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] < scores[b]; });
  order.resize(static_cast<size_t>(std::min<int64_t>(remove, static_cast<int64_t>(order.size()))));
  std::sort(order.begin(), order.end());
  return order;
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
  const int64_t wanted = static_cast<int64_t>(std::floor(amount * double(group.size)));
  plan.removed[g] = chooseChannels(group, scores[g], wanted, c);
  return plan;
}

PrunePlan planRatios(const DependencyGraph& deps, const GroupScores& scores,
                     const std::vector<std::pair<std::string, double>>& ratios, double fallback,
                     const PlanConstraints& c) {
  PrunePlan plan = emptyPlan(deps);
  const Graph& graph = deps.graph();
  for (const Group& g : deps.groups()) {
    if (!g.prunable() || !scored(scores[g.id])) continue;
    double ratio = fallback;
    bool found = false;
    for (const auto& [pattern, r] : ratios) {
      for (NodeId s : g.sources)
        if (scopeMatches(graph.node(s).name, pattern)) found = true;
      if (found) {
        ratio = r;
        break;
      }
    }
    if (ratio < 0 || ratio >= 1) throw Error(g.name, "prune ratio must be in [0, 1)");
    plan.removed[g.id] = chooseChannels(g, scores[g.id], static_cast<int64_t>(std::floor(ratio * double(g.size))), c);
  }
  return plan;
}

PrunePlan planGlobalPercent(const DependencyGraph& deps, const GroupScores& scores, double percent,
                            const PlanConstraints& c) {
  if (percent < 0 || percent >= 1) throw Error("--percent", "must be in [0, 1)");
  std::vector<double> all;
  for (const Group& g : deps.groups())
    if (g.prunable() && scored(scores[g.id]))
      for (int64_t k = 0; k < g.size; ++k)
        if (!g.pinned[k]) all.push_back(scores[g.id][k]);
  if (all.empty()) throw Error("--percent", "no prunable channels with scores (bn needs BatchNorm layers)");
  std::sort(all.begin(), all.end());
  const double threshold = all[static_cast<size_t>(percent * double(all.size()))];
  return planBelow(deps, scores, std::vector<double>(deps.groups().size(), threshold), c);
}

double highestSafePercent(const DependencyGraph& deps, const GroupScores& scores) {
  double minOfMax = INFINITY;
  std::vector<double> all;
  for (const Group& g : deps.groups()) {
    if (!g.prunable() || !scored(scores[g.id])) continue;
    double mx = -INFINITY;
    for (int64_t k = 0; k < g.size; ++k)
      if (!g.pinned[k]) {
        mx = std::max(mx, scores[g.id][k]);
        all.push_back(scores[g.id][k]);
      }
    minOfMax = std::min(minOfMax, mx);
  }
  if (all.empty()) return 0.0;
  const auto below = std::count_if(all.begin(), all.end(), [&](double s) { return s < minOfMax; });
  return double(below) / double(all.size());
}

PrunePlan planToTarget(const DependencyGraph& deps, const GroupScores& scores, int64_t target, bool params,
                       const PlanConstraints& c) {
  // Normalise each group's scores by its mean so thresholds compare across layers.
  GroupScores norm = scores;
  for (const Group& g : deps.groups()) {
    if (!scored(scores[g.id])) continue;
    double mean = 0;
    for (double s : scores[g.id]) mean += s;
    mean /= double(std::max<int64_t>(g.size, 1));
    for (auto& s : norm[g.id]) s = mean > 0 ? s / mean : s;
  }
  auto cost = [&](const PrunePlan& p) {
    const CostEstimate e = estimateCost(deps, p);
    return params ? e.params : e.macs;
  };
  double lo = 0.0, hi = 0.0;
  for (const auto& s : norm)
    if (scored(s)) hi = std::max(hi, *std::max_element(s.begin(), s.end()));
  hi += 1.0;
  PrunePlan best = planBelow(deps, norm, std::vector<double>(deps.groups().size(), hi), c);
  if (cost(best) > target)
    throw Error("--target", "unreachable: even the strongest plan leaves " + std::to_string(cost(best)) +
                                (params ? " params" : " MACs") + " (minimum channels / protected layers)");
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

}  // namespace prunelab
