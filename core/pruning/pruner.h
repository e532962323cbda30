#pragma once
// The pruning pipeline in one call: analyse, score, plan, cut - repeated over an
// iterative schedule of `steps` (each step re-scores the already-pruned model and
// removes an equal share of the total). Used by the CLI and the GUI worker.

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/importance.h"
#include "pruning/latency_table.h"
#include "pruning/planner.h"
#include "pruning/reconstruction.h"
#include "pruning/sensitivity.h"
#include "pruning/surgery.h"

namespace prunelab {

struct PruneRequest {
  enum class Mode { LayerAmount, Ratios, GlobalPercent, TargetMacs, TargetParams, TargetLatency };
  Mode mode = Mode::GlobalPercent;
  std::string layer;   // LayerAmount
  double amount = 0.0; // LayerAmount, GlobalPercent (as fraction)
  std::vector<std::pair<std::string, double>> ratios;  // Ratios
  double fallbackRatio = 0.0;                         // Ratios: groups no pattern matches
  std::string ratiosFile;  // Ratios: the file they came from, named in errors ("" none)
  int64_t target = 0;  // TargetMacs / TargetParams
  // TargetMacs from a sensitivity table (planFromSensitivity) instead of a global ranking;
  // one step only.
  std::shared_ptr<const SensitivityTable> sensitivity;
  // TargetLatency: the predicted latency (planToLatency) at most this, from `latency`, a
  // table measured on this model; one step only.
  double targetLatencyMs = 0;
  std::shared_ptr<const LatencyTable> latency;
  // TargetLatency: a target below the table's prediction of the strongest plan makes that
  // plan instead of failing "unreachable". The latency search (pruning/latency_target.h)
  // sets it: the table's floor is a prediction, and a measurement decides.
  bool strongestIfUnreachable = false;
  int steps = 1;
  PlanConstraints constraints;
  std::vector<std::string> protectedScopes;  // keep these scopes' output channels (DependencyGraph::Options)
  std::vector<std::string> pinnedScopes;     // keep every channel these scopes read or write
  ImportanceOptions importance;
  SurgeryOptions surgery;
  // Least-squares refit of every consumer after each step's cut (pruning/reconstruction.h);
  // its calibration batches default to importance.calibration.
  bool reconstruct = false;
  ReconstructOptions reconstruction;
  ReconstructProgress reconstructProgress;  // optional, on the calling thread
  Shape inputShape;  // C x H x W used for shapes and MACs
};

struct LayerChannels {
  std::string name;  // source layer
  int64_t before = 0;
  int64_t after = 0;
};

struct PruneOutcome {
  Graph graph;                        // the pruned model (shapes inferred)
  std::vector<SurgeryLogEntry> log;   // all steps, in order
  std::vector<LayerChannels> layers;  // per Conv/Linear: output channels before/after
  double highestSafePercent = -1.0;   // GlobalPercent: the largest safe percent (ranked as planned)
  double predictedLatencyMs = -1.0;   // TargetLatency: the table's prediction of the plan
  BetaFoldReport betaFold;            // with surgery.foldBeta: every step's folds, in order
  ReconstructReport reconstruction;   // with reconstruct: every step's refits, in order
};

// `graph` is not modified. Throws prunelab::Error for impossible requests.
PruneOutcome runPruning(const Graph& graph, const PruneRequest& request);

// Step `step` (0-based) of `request`'s schedule of request.steps cuts, as a one-step request
// for the model as that step finds it: --percent and each ratio remove 1 - (1 - p)^(1/steps)
// of what is left; a MACs/params target T aims step k at ceil(C0 - (k+1)/steps (C0 - T)),
// C0 = `startCost`, the unpruned model's cost. runPruning follows it, and so does the
// iterative form with training between the cuts (session/iterative_prune.h).
PruneRequest scheduledStep(const PruneRequest& request, int step, int64_t startCost);

}  // namespace prunelab
