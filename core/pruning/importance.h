#pragma once
// Importance: one score per channel of every group (higher = more important).
//
//   l1, l2          weight norms of every Conv/Linear slice (out and in) and BN gamma in the group
//   bn              |gamma| of the group's BatchNorms (Network Slimming); NaN for groups without BN
//   activation      mean |activation| over calibration batches, after the group's nonlinearity
//   taylor          |sum w * dL/dw| over the group's weights (first-order Taylor), calibration batches
//   reconstruction  energy of each channel's contribution to the next layers' outputs (feature-map reconstruction);
//                   pair with PruneRequest::reconstruct (pruning/reconstruction.h)
//   random          seeded uniform: the baseline
// Member scores are reduced over the group with sum, mean or max.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pruning/dependency_graph.h"

namespace prunelab {

enum class Criterion { L1, L2, BnScale, Activation, Taylor, Reconstruction, Random };
enum class GroupReduction { Sum, Mean, Max };

Criterion parseCriterion(const std::string& name);  // throws prunelab::Error listing the names
std::string criterionName(Criterion c);
// Every criterion's name in the order menus offer them (network slimming's bn first).
std::vector<std::string> criterionMenu();
GroupReduction parseReduction(const std::string& name);
bool needsCalibration(Criterion c);

struct ImportanceOptions {
  Criterion criterion = Criterion::L2;
  GroupReduction reduction = GroupReduction::Sum;
  uint64_t seed = 0;
  std::vector<at::Tensor> calibration;  // input batches (N x C x H x W) for data-driven criteria
  std::vector<at::Tensor> labels;       // optional class labels per batch (taylor); else the model's own argmax
  // Optional task loss for taylor: (graph outputs, calibration batch index) -> scalar,
  // e.g. a detector's YOLO loss against the batch's boxes. Takes precedence over labels.
  std::function<at::Tensor(const std::vector<at::Tensor>&, size_t)> loss;
};

// scores[g][k] for group g, channel k. The graph (deps.graph()) is not modified.
std::vector<std::vector<double>> computeImportance(const DependencyGraph& deps, const ImportanceOptions& options);

}  // namespace prunelab
