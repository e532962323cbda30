#include "pruning/pruner.h"

#include <algorithm>
#include <cmath>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "graph/scope_pattern.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

namespace {

PrunePlan planStep(const DependencyGraph& deps, const GroupScores& scores, const PruneRequest& request, int step,
                   int64_t startCost, PruneOutcome& out) {
  const PruneRequest r = scheduledStep(request, step, startCost);
  switch (r.mode) {
    case PruneRequest::Mode::LayerAmount: {
      // One layer: the whole amount in the first step (later steps only re-score).
      if (step > 0) {
        PrunePlan none;
        none.removed.resize(deps.groups().size());
        return none;
      }
      return planLayerAmount(deps, scores, r.layer, r.amount, r.constraints);
    }
    case PruneRequest::Mode::Ratios:
      return planRatios(deps, scores, r.ratios, r.fallbackRatio, r.constraints);
    case PruneRequest::Mode::GlobalPercent: {
      if (step == 0) out.highestSafePercent = highestSafePercent(deps, scores, r.constraints);
      return planGlobalPercent(deps, scores, r.amount, r.constraints);
    }
    case PruneRequest::Mode::TargetMacs:
      if (r.sensitivity) return planFromSensitivity(*r.sensitivity, deps, scores, r.target, r.constraints).plan;
      [[fallthrough]];
    case PruneRequest::Mode::TargetParams:
      return planToTarget(deps, scores, r.target, r.mode == PruneRequest::Mode::TargetParams, r.constraints);
    case PruneRequest::Mode::TargetLatency: {
      PrunePlan plan = planToLatency(deps, scores, *r.latency, r.targetLatencyMs, r.constraints, r.strongestIfUnreachable);
      out.predictedLatencyMs = predictLatencyMs(*r.latency, deps, plan);
      return plan;
    }
  }
  return {};
}

// "r.yaml: ratio of 'fc'" (or without the file when the ratios came from elsewhere).
std::string ratioSubject(const PruneRequest& r, const std::string& pattern) {
  return (r.ratiosFile.empty() ? "" : r.ratiosFile + ": ") + "ratio of '" + pattern + "'";
}

// What only the dependency analysis can tell, refused before the first cut: a ratio whose
// layers are all pinned (the classifier's output, a protected scope) and a --round-to no
// prunable group exceeds would both do nothing, silently.
void checkRequestAgainstGroups(const DependencyGraph& deps, const PruneRequest& r) {
  int64_t largest = 0;
  for (const Group& g : deps.groups())
    if (g.prunable()) largest = std::max(largest, g.size);
  if (largest > 0 && r.constraints.roundTo >= largest)
    throw Error("--round-to", std::to_string(r.constraints.roundTo) + " keeps every channel: no layer that can be pruned " +
                                  "has more (the largest has " + std::to_string(largest) + ")");
  if (r.mode != PruneRequest::Mode::Ratios) return;
  for (const auto& [pattern, ratio] : r.ratios) {
    if (ratio == 0.0) continue;  // "leave this layer alone" is what a pinned layer does anyway
    bool prunable = false;
    for (const Group& g : deps.groups()) prunable = prunable || (g.prunable() && groupMatches(deps, g, pattern));
    if (!prunable)
      throw Error(ratioSubject(r, pattern), "names only layers that cannot be pruned (their channels are pinned: "
                                            "a model output, a protected or pinned scope, an op without a channel rule)");
  }
}

// A fraction of channels: finite and in [0, 1) (or (0, 1) when it must remove something).
void checkFraction(const std::string& what, double v, bool positive) {
  if (!std::isfinite(v) || v < 0.0 || v >= 1.0 || (positive && v == 0.0))
    throw Error(what, "must be a fraction " + std::string(positive ? "in (0, 1)" : "in [0, 1)") + ", got " +
                          std::to_string(v));
}

// Requests that would silently do something else are refused before any work.
void checkRequest(const Graph& graph, const PruneRequest& r) {
  constexpr int kMaxSteps = 100;  // each step re-scores the whole model
  if (r.steps < 1 || r.steps > kMaxSteps)
    throw Error("--steps", "must be between 1 and " + std::to_string(kMaxSteps) + ", got " + std::to_string(r.steps));
  if (r.sensitivity && (r.mode != PruneRequest::Mode::TargetMacs || r.steps != 1))
    throw Error("--from-sensitivity", "plans for --target-macs in one step");
  if (r.mode == PruneRequest::Mode::TargetLatency && (!r.latency || r.steps != 1))
    throw Error("--target-latency", "plans in one step from a latency table measured on this model");
  if (r.constraints.roundTo < 1) throw Error("--round-to", "must be at least 1, got " + std::to_string(r.constraints.roundTo));
  if (r.constraints.minChannels < 1)
    throw Error("--min-channels", "must be at least 1, got " + std::to_string(r.constraints.minChannels));
  if (r.mode == PruneRequest::Mode::LayerAmount) checkFraction("--amount", r.amount, true);
  if (r.mode == PruneRequest::Mode::GlobalPercent) checkFraction("--percent", r.amount, true);
  if (r.mode == PruneRequest::Mode::Ratios) {
    checkFraction(ratioSubject(r, "default"), r.fallbackRatio, false);
    for (const auto& [pattern, ratio] : r.ratios) {
      checkFraction(ratioSubject(r, pattern), ratio, false);
      bool matches = false;
      for (const Node& n : graph.nodes()) matches = matches || scopeMatches(n.name, pattern) || scopeMatches(n.scope, pattern);
      if (!matches) throw Error(ratioSubject(r, pattern), "matches no layer of this model");
    }
  }
  const auto scopes = [&](const std::string& option, const std::vector<std::string>& patterns) {
    for (const std::string& pattern : patterns) {
      bool matches = false;
      for (const Node& n : graph.nodes()) matches = matches || scopeMatches(n.scope, pattern);
      if (!matches) throw Error(option, "'" + pattern + "' matches no scope of this model");
    }
  };
  scopes("--protect", r.protectedScopes);
  scopes("--pin", r.pinnedScopes);
}

}  // namespace

PruneOutcome runPruning(const Graph& input, const PruneRequest& request) {
  PruneRequest r = request;
  r.constraints.scoresComparable = scoresCompareAcrossLayers(criterionName(r.importance.criterion));
  checkRequest(input, r);
  PruneOutcome out;
  Graph current = input.clone();
  inferShapes(current, r.inputShape);
  const GraphCost start = computeCost(current);
  const int64_t startCost = r.mode == PruneRequest::Mode::TargetParams ? start.params : start.macs;
  if ((r.mode == PruneRequest::Mode::TargetMacs || r.mode == PruneRequest::Mode::TargetParams) &&
      (r.target <= 0 || r.target >= startCost))
    throw Error("--target", "must be between 0 and the current " + std::to_string(startCost));

  std::map<std::string, int64_t> before;
  for (const Node& n : current.nodes())
    if (opSpec(n.op).isChannelSource) before[n.name] = current.value(n.outputs[0]).shape.at(1);

  for (int step = 0; step < r.steps; ++step) {
    DependencyGraph::Options o;
    o.protectedScopes = r.protectedScopes;
    o.pinnedScopes = r.pinnedScopes;
    const DependencyGraph deps(current, o);
    if (step == 0) checkRequestAgainstGroups(deps, r);
    const GroupScores scores = computeImportance(deps, r.importance);
    const PrunePlan plan = planStep(deps, scores, r, step, startCost, out);
    SurgeryResult cut = applySurgery(deps, plan, r.surgery);
    if (r.reconstruct) {
      ReconstructOptions ro = r.reconstruction;
      if (ro.calibration.empty()) ro.calibration = r.importance.calibration;
      ReconstructReport refit = reconstructConsumers(deps, plan, cut.graph, ro, r.reconstructProgress);
      auto& all = out.reconstruction;
      all.consumers.insert(all.consumers.end(), refit.consumers.begin(), refit.consumers.end());
      all.seconds += refit.seconds;
    }
    out.log.insert(out.log.end(), cut.log.begin(), cut.log.end());
    auto& fold = out.betaFold;
    fold.folded.insert(fold.folded.end(), cut.betaFold.folded.begin(), cut.betaFold.folded.end());
    fold.skipped.insert(fold.skipped.end(), cut.betaFold.skipped.begin(), cut.betaFold.skipped.end());
    current = std::move(cut.graph);
  }
  for (const Node& n : current.nodes())
    if (before.count(n.name)) out.layers.push_back({n.name, before[n.name], current.value(n.outputs[0]).shape.at(1)});
  out.graph = std::move(current);
  return out;
}

PruneRequest scheduledStep(const PruneRequest& request, int step, int64_t startCost) {
  PruneRequest r = request;
  r.steps = 1;
  const int n = std::max(1, request.steps);
  // Percent and ratios: the same share of what is left at every step, so that after all
  // steps that share of the original is gone.
  const auto perStep = [n](double total) { return 1.0 - std::pow(1.0 - total, 1.0 / double(n)); };
  switch (request.mode) {
    case PruneRequest::Mode::GlobalPercent: r.amount = perStep(request.amount); break;
    case PruneRequest::Mode::Ratios:
      for (auto& pattern : r.ratios) pattern.second = perStep(pattern.second);
      r.fallbackRatio = perStep(request.fallbackRatio);
      break;
    case PruneRequest::Mode::TargetMacs:
      if (request.sensitivity) break;  // one step, aimed at the target itself
      [[fallthrough]];
    case PruneRequest::Mode::TargetParams: {
      // A cost target: step k aims at its share of the way from the unpruned cost.
      const double share = double(step + 1) / double(n);
      r.target = static_cast<int64_t>(std::ceil(double(startCost) - share * double(startCost - request.target)));
      break;
    }
    default: break;  // --layer cuts in step 0; latency targets plan in one step
  }
  return r;
}

}  // namespace prunelab
