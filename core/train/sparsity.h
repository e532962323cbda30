#pragma once
// Network Slimming's L1 penalty on BatchNorm gammas, applied as a subgradient:
// after backward and before the optimizer step, grad(gamma) += sr * sign(gamma)
// (and, optionally, grad(beta) += srBeta * sign(beta)).

#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

// How the penalty is applied; its coefficient sr itself lives in the run's TrainControl.
struct SparsityOptions {
  double srBeta = 0.0;               // optional L1 on beta, as a multiple of sr (0 = off)
  bool linearDecay = false;          // YOLOv5 slimming scripts: sr * (1 - 0.9 * epoch / epochs)
  std::vector<std::string> exclude;  // BN scopes left dense (scope patterns)
  // In (0, 1): the penalty falls only on the channels a `bn` plan of this percent would
  // remove now (train/targeted_sparsity.h), their betas too when srBeta is set. 0: every
  // gamma, as Network Slimming.
  double targeted = 0.0;
};

// The coefficient in effect at `epoch` (0-based) of `epochs` for base value `sr`.
double effectiveSr(const SparsityOptions& o, double sr, int epoch, int epochs);

// BN nodes the penalty applies to (not excluded, with a weight).
std::vector<NodeId> sparsityTargets(const Graph& graph, const SparsityOptions& o);

// |gamma| of every target's channels (on the CPU), in node order.
std::vector<float> absGammas(const Graph& graph, const std::vector<NodeId>& targets);

// Adds the subgradient to the gradients of `targets` (no-op for sr == 0 or missing grads).
void applyBnL1(Graph& graph, const std::vector<NodeId>& targets, double sr, double srBeta);

}  // namespace prunelab
