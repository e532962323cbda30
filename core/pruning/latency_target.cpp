#include "pruning/latency_target.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/latency.h"
#include "util/error.h"

namespace prunelab {

namespace {

// A measured goal: `ratio` is the measured latency over that round's target, so that
// points from rounds whose target moved with the baseline (load) stay comparable; the
// search aims at ratio 1.
struct Point {
  double goal, ratio;
};

// The measured latency rises with the goal; the target is bracketed between a goal that
// measured below it and one that measured above (at first: planning for the unpruned
// latency keeps the model whole), and closed in on by regula falsi. A table several times
// off (small inputs, where per-op overheads dominate; another runtime) still converges.
struct Bracket {
  std::optional<Point> below;
  Point above;

  double next(const Point& p) {
    if (p.ratio < 1) below = p;
    else above = p;
    if (!below) return p.goal / p.ratio;  // only slower points so far: scale down
    const double span = above.ratio - below->ratio;
    double n = span > 0 ? below->goal + (1 - below->ratio) * (above.goal - below->goal) / span
                        : 0.5 * (below->goal + above.goal);
    if (n <= below->goal || n >= above.goal) n = 0.5 * (below->goal + above.goal);
    return n;
  }
};

std::string ms(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

[[noreturn]] void throwUnreachable(const LatencyRound& r) {
  throw Error("--target-latency", "unreachable: even the strongest plan measured " + ms(r.measuredMs) +
                                      " ms against a target of " + ms(r.targetMs) + " ms (unpruned: " +
                                      ms(r.baselineMs) + " ms; minimum channels / protected layers)");
}

}  // namespace

LatencyGoal aimAtLatency(const Graph& graph, const PruneRequest& request, const LatencyGoalOptions& o) {
  if (request.mode != PruneRequest::Mode::TargetLatency || !request.latency)
    throw Error("--target-latency", "needs a latency table");
  const LatencyTable& table = *request.latency;
  const auto measure = [&](Graph& g) {
    if (o.measure) return o.measure(g);
    Shape nchw{table.batch};
    nchw.insert(nchw.end(), table.input.begin(), table.input.end());
    return measureLatencyMs(g, nchw, o.iters);
  };
  // The planner's strongest plan under the request's constraints and scopes (planned for
  // "nothing"), and the table's prediction of it: goals below that plan it again, so the
  // search stays at or above it rather than spend rounds re-planning one model.
  PruneRequest r = request;
  r.strongestIfUnreachable = true;
  r.targetLatencyMs = 1e-9 * table.totalMs;
  const double floorMs = runPruning(graph, r).predictedLatencyMs;
  // A table whose isolated small-width timings came out slow (load, tiny layers) can predict
  // the strongest plan above the whole model: then every goal is open to the search.
  const double lowest = floorMs < table.totalMs ? floorMs * (1 + 1e-6) : 1e-6 * table.totalMs;
  const auto clampGoal = [&](double g) { return std::clamp(g, lowest, table.totalMs * (1 - 1e-6)); };
  Graph baseline = graph.clone();
  inferShapes(baseline, request.inputShape);
  LatencyGoal out;
  Bracket bracket{std::nullopt, Point{table.totalMs, 1.0}};
  double goal = 0, bestError = INFINITY;
  int strongestAbove = 0;
  const auto targetFor = [&](double baselineMs) {
    return o.targetFraction > 0 ? o.targetFraction * baselineMs : request.targetLatencyMs;
  };
  for (int round = 0; round < std::max(1, o.rounds); ++round) {
    LatencyRound step;
    step.baselineMs = measure(baseline);
    step.targetMs = targetFor(step.baselineMs);
    if (round == 0) {
      // The table's milliseconds need not be the measurer's (another runtime, another
      // load): the first goal is the target's share of the unpruned model, in table units.
      goal = clampGoal(table.totalMs * step.targetMs / step.baselineMs);
      bracket.above.ratio = step.baselineMs / step.targetMs;
    }
    r.targetLatencyMs = step.goalMs = goal;
    PruneOutcome pruned = runPruning(graph, r);
    step.measuredMs = measure(pruned.graph);
    step.predictedMs = pruned.predictedLatencyMs;
    step.strongest = pruned.predictedLatencyMs > goal || goal <= floorMs * (1 + 1e-5);  // nothing faster to plan
    step.macs = computeCost(pruned.graph).macs;
    if (o.confirm && std::abs(step.measuredMs / step.targetMs - 1) <= o.tolerance) {
      // One pair on a busy machine can land in the tolerance by luck (the same model has
      // measured 25 % apart a minute later): it is accepted on the mean of two pairs.
      step.baselineMs = 0.5 * (step.baselineMs + measure(baseline));
      step.measuredMs = 0.5 * (step.measuredMs + measure(pruned.graph));
      step.targetMs = targetFor(step.baselineMs);
      step.pairs = 2;
    }
    out.rounds.push_back(step);
    if (o.onRound) o.onRound(step);
    const double ratio = step.measuredMs / step.targetMs, error = std::abs(ratio - 1);
    if (error < bestError) {
      bestError = error;
      out.goalMs = goal;
      out.measuredMs = step.measuredMs;
      out.targetMs = step.targetMs;
      out.baselineMs = step.baselineMs;
    }
    if (error <= o.tolerance) break;
    if (step.strongest && ratio > 1) {
      // Nothing faster can be planned; one more measurement of the pair before giving up,
      // since a busy machine may have slowed just this one.
      if (!bracket.below && (++strongestAbove >= 2 || round + 1 == std::max(1, o.rounds))) throwUnreachable(step);
      continue;
    }
    const double next = clampGoal(bracket.next(Point{goal, ratio}));
    if (std::abs(next - goal) < 1e-6 * goal) break;  // nothing new to plan (converged)
    goal = next;
  }
  return out;
}

}  // namespace prunelab
