#include "pruning/latency_target.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/latency.h"
#include "util/error.h"

namespace prunelab {

LatencyGoal aimAtLatency(const Graph& graph, const PruneRequest& request, const LatencyGoalOptions& o) {
  if (request.mode != PruneRequest::Mode::TargetLatency || !request.latency)
    throw Error("--target-latency", "needs a latency table");
  const LatencyTable& table = *request.latency;
  const double target = request.targetLatencyMs;
  const auto measure = [&](Graph& g) {
    if (o.measure) return o.measure(g);
    Shape nchw{table.batch};
    nchw.insert(nchw.end(), table.input.begin(), table.input.end());
    return measureLatencyMs(g, nchw, o.iters);
  };
  // Goals below what the table says any plan reaches cannot be planned: the search stays
  // above that floor (with the request's own protected/pinned scopes and constraints).
  Graph shaped = graph.clone();
  inferShapes(shaped, request.inputShape);
  DependencyGraph::Options scopes;
  scopes.protectedScopes = request.protectedScopes;
  scopes.pinnedScopes = request.pinnedScopes;
  const double floorMs = fastestPredictedMs(table, DependencyGraph(shaped, scopes), request.constraints);
  LatencyGoal out;
  out.targetMs = target;
  PruneRequest r = request;
  // The measured latency rises with the goal; bracket the target between a goal that
  // measured below it and one that measured above (at first: planning for the unpruned
  // latency keeps the model whole), and close in by regula falsi. A table several times
  // off (small inputs, where per-op overheads dominate) still converges.
  struct Point {
    double goal, ms;
  };
  std::optional<Point> below;
  Point above{table.totalMs, table.totalMs};
  double goal = target;
  double bestError = INFINITY;
  for (int round = 0; round < std::max(1, o.rounds); ++round) {
    r.targetLatencyMs = goal;
    PruneOutcome pruned = runPruning(graph, r);
    LatencyRound step;
    step.goalMs = goal;
    step.measuredMs = measure(pruned.graph);
    step.predictedMs = pruned.predictedLatencyMs;
    step.macs = computeCost(pruned.graph).macs;
    out.rounds.push_back(step);
    if (o.onRound) o.onRound(step);
    const double error = std::abs(step.measuredMs - target) / target;
    if (error < bestError) {
      bestError = error;
      out.goalMs = goal;
      out.measuredMs = step.measuredMs;
    }
    if (error <= o.tolerance) break;
    if (step.measuredMs < target) below = Point{goal, step.measuredMs};
    else above = Point{goal, step.measuredMs};
    double next;
    if (!below) {
      next = goal * target / step.measuredMs;  // only slower points so far: scale down
    } else {
      const double span = above.ms - below->ms;
      next = span > 0 ? below->goal + (target - below->ms) * (above.goal - below->goal) / span
                      : 0.5 * (below->goal + above.goal);
      if (next <= below->goal || next >= above.goal) next = 0.5 * (below->goal + above.goal);
    }
    next = std::max(next, floorMs * (1 + 1e-6));
    if (std::abs(next - goal) < 1e-6 * target) break;  // nothing new to plan (at the floor, or converged)
    goal = next;
  }
  return out;
}

}  // namespace prunelab
