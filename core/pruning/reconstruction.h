#pragma once
// Least-squares reconstruction after a cut (He et al. 2017, "Channel Pruning for
// Accelerating Very Deep Neural Networks"; ThiNet). Every Conv (groups 1) and Linear that
// lost input channels gets new weights and bias solving
//
//     min_theta || A theta - Y ||^2 + lambda ||theta||^2,   A = [patches of X_cut, 1]
//
// where X_cut is the consumer's input in the *pruned* model and Y its output (kept
// channels) in the model before the cut, on calibration batches. Consumers are refitted in
// topological order, so each one sees the inputs of the already refitted layers before it
// and the error does not accumulate down the network (He et al.'s choice, not ThiNet's).
//
// Bias: a consumer with a bias refits it; one without a bias whose output feeds only a
// BatchNorm puts the fitted offset into that BN's running_mean (exact in eval mode); any
// other is fitted without the constant column.
//
// Cost and memory: one forward of the unpruned model per batch (its outputs sampled at
// `samples` positions per consumer and kept), then per consumer one forward of the pruned
// model per batch, stopped at that consumer's input. The normal equations A^T A, A^T Y are
// accumulated in double batch by batch, so memory per consumer is O(D^2 + samples x C_out)
// with D = C_in k_h k_w + 1 (4609^2 doubles = 170 MB for a 512-channel 3x3 conv), not
// O(data).
//
// A refit that would not lower the error on the samples (possible only through the ridge
// term) is not applied; the report says so. Thread affinity: the caller's (the worker).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "pruning/prune_plan.h"

namespace prunelab {

struct ReconstructOptions {
  std::vector<at::Tensor> calibration;  // input batches N x C x H x W, as the model takes them
  // Sampled output positions per consumer over all batches; 0: max(4096, 4 D), capped by
  // the positions the batches have.
  int64_t samples = 0;
  double ridge = 1e-4;  // lambda = ridge * trace(A^T A) / D: scale-free regularisation
  uint64_t seed = 0;    // position sampling
};

struct ConsumerRefit {
  std::string node;
  int64_t columns = 0;       // D: C_in k_h k_w (+1 with the constant column)
  int64_t samples = 0;       // rows of the system
  double errorBefore = 0.0;  // ||A theta - Y||^2 / ||Y||^2 with the sliced weights
  double errorAfter = 0.0;   // the same with the refitted weights (= errorBefore when not applied)
  std::string biasTarget;    // "bias", "<bn>.running_mean" or "" (no constant fitted)
  bool applied = false;
  std::string note;  // why a consumer was not refitted
};

struct ReconstructReport {
  std::vector<ConsumerRefit> consumers;  // topological order
  double seconds = 0.0;
};

// Called after each consumer: (done, total, consumer name).
using ReconstructProgress = std::function<void(int, int, const std::string&)>;

// `deps` was built from the model before the cut (shapes inferred); `pruned` is
// applySurgery(deps, plan)'s graph and owns its tensors. The consumers' tensors of `pruned`
// are overwritten in place (same shapes, so the structure id is kept). Throws
// prunelab::Error without calibration batches.
ReconstructReport reconstructConsumers(const DependencyGraph& deps, const PrunePlan& plan, Graph& pruned,
                                       const ReconstructOptions& options, const ReconstructProgress& progress = {});

}  // namespace prunelab
