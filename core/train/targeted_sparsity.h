#pragma once
// Targeted sparse training: the L1 penalty on BatchNorm gammas (and betas) falls only on the
// channels that a `bn` global-percent plan would remove now (prune --criterion bn --percent P:
// the dependency groups' summed |gamma|, ranked raw across layers). Re-planned at every step,
// so the penalised set follows the gammas as they move.
//
// Plain Network Slimming pushes every gamma toward zero; in a short, strong sparse stage that
// shrinks the whole network (and makes its BatchNorm running statistics unreliable) instead
// of emptying the channels a cut will take. Penalising only those channels (growing
// regularisation, Wang et al. 2021, penalises only the weights bound for removal, for the
// same reason) leaves the rest at their scale; with the betas pushed too, the channels a cut
// takes carry nothing by the time it happens, and the cut costs little.
//
// Thread: the training thread. Holds the model's structure (its dependency analysis, made
// once); reads the live gammas through the graph it is given at each call.

#include <ATen/core/Tensor.h>

#include <memory>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

class DependencyGraph;

class TargetedSparsity {
 public:
  // `percent` in (0, 1): the share of prunable channels a bn plan removes. `graph` must be
  // the model being trained (its structure is analysed here, on a shape-inferred copy).
  TargetedSparsity(const Graph& graph, double percent);
  ~TargetedSparsity();

  // Per BatchNorm node, a 0/1 mask over its channels: 1 where the plan made from the gammas
  // in `graph` now removes the channel. Nodes with nothing to penalise are left out.
  std::vector<std::pair<NodeId, at::Tensor>> masks(const Graph& graph) const;

 private:
  struct BnSlice {
    NodeId node;
    std::vector<std::vector<int64_t>> indices;  // per group channel: positions in the BN's channels
  };
  std::unique_ptr<DependencyGraph> m_deps;
  std::vector<std::vector<BnSlice>> m_bn;  // per group
  double m_percent;
};

// The penalty on masked channels: grad(gamma) += sr * sign(gamma) * mask, and the same for
// beta with sr * srBeta.
void applyMaskedBnL1(Graph& graph, const std::vector<std::pair<NodeId, at::Tensor>>& masks, double sr, double srBeta);

}  // namespace prunelab
