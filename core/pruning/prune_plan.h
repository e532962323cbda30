#pragma once
// A PrunePlan says which channels each group of a DependencyGraph loses. It is plain
// data (group ids and channel indices, plus the source names for a readable log) and
// is checked against the analysis before surgery applies it.

#include <cstdint>
#include <string>
#include <vector>

#include "pruning/dependency_graph.h"

namespace prunelab {

struct PrunePlan {
  // removed[g]: sorted channel indices of group g to remove (empty: untouched).
  std::vector<std::vector<int64_t>> removed;

  int64_t removedCount() const;
  bool empty() const { return removedCount() == 0; }
};

// Throws prunelab::Error when the plan removes a pinned channel, an index out of range,
// or every channel of a group (a layer would vanish).
void validatePlan(const DependencyGraph& deps, const PrunePlan& plan);

// The params/MACs/size that surgery would produce, computed arithmetically from the
// kept channel counts (no tensors are sliced): the instant "what-if".
struct CostEstimate {
  int64_t params = 0;
  int64_t macs = 0;
  int64_t sizeBytes = 0;
};
CostEstimate estimateCost(const DependencyGraph& deps, const PrunePlan& plan);

}  // namespace prunelab
