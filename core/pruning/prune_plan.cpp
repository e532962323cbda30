#include "pruning/prune_plan.h"

#include <map>

#include "analysis/cost.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

int64_t PrunePlan::removedCount() const {
  int64_t n = 0;
  for (const auto& r : removed) n += static_cast<int64_t>(r.size());
  return n;
}

void validatePlan(const DependencyGraph& deps, const PrunePlan& plan) {
  const auto& groups = deps.groups();
  if (plan.removed.size() > groups.size()) throw Error("prune plan", "names more groups than the model has");
  for (size_t g = 0; g < plan.removed.size(); ++g) {
    const Group& group = groups[g];
    std::vector<bool> seen(static_cast<size_t>(group.size), false);
    for (int64_t k : plan.removed[g]) {
      if (k < 0 || k >= group.size)
        throw Error(group.name, "channel " + std::to_string(k) + " out of range (" + std::to_string(group.size) + ")");
      if (group.pinned[k]) throw Error(group.name, "channel " + std::to_string(k) + " is pinned (protected)");
      if (seen[k]) throw Error(group.name, "channel " + std::to_string(k) + " listed twice");
      seen[k] = true;
    }
    if (static_cast<int64_t>(plan.removed[g].size()) >= group.size)
      throw Error(group.name, "the plan removes every channel of the layer");
  }
}

CostEstimate estimateCost(const DependencyGraph& deps, const PrunePlan& plan) {
  const Graph& g = deps.graph();
  const auto kept = deps.keptChannels(plan.removed);
  const MacsConvention convention = defaultConvention(g);
  CostEstimate est;
  for (const Node& n : g.nodes()) {
    // Per tensor: scale the channel-indexed dims by kept/total; MACs per element are
    // unchanged by channel pruning (analysis/cost.h).
    std::map<std::string, TensorChannelDims> dims;
    for (const auto& d : slicedChannelDims(n)) dims[d.tensor] = d;
    const std::vector<int64_t> factors = macsPerElement(g, n, convention);
    for (size_t i = 0; i < n.tensors.size(); ++i) {
      const NamedTensor& t = n.tensors[i];
      int64_t numel = t.tensor.numel();
      auto it = dims.find(t.name);
      if (it != dims.end() && numel > 0) {
        const TensorChannelDims& d = it->second;
        int64_t total = 1, remaining = 1;
        if (d.outDim >= 0) {
          total *= t.tensor.size(d.outDim);
          remaining *= static_cast<int64_t>(kept[n.outputs[0]].size());
        }
        if (d.inDim >= 0) {
          total *= t.tensor.size(d.inDim);
          remaining *= static_cast<int64_t>(kept[n.inputs[0]].size());
        }
        numel = numel / total * remaining;
      }
      if (!t.isBuffer) est.params += numel;
      est.sizeBytes += numel * static_cast<int64_t>(t.tensor.element_size());
      est.macs += numel * factors[i];
    }
  }
  return est;
}

}  // namespace prunelab
