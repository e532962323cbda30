#pragma once
// Surgery: Graph + PrunePlan -> a new Graph with the channels removed. The input graph
// is never modified, so before/after comparison and undo are free.
//
// Check, then apply: the plan is validated against the dependency analysis first.
// Every channel-indexed tensor dim (the ops' declared layout, slicedChannelDims) is sliced, channel-count
// attributes (Split sizes, depthwise groups) updated, shapes re-inferred, and a forward
// pass at batch 1 proves the result runs. A log entry keyed by scope name records what
// was removed, so the same cut can be replayed on another copy of the model.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "pruning/plan_log.h"
#include "pruning/prune_plan.h"

namespace prunelab {

struct SurgeryOptions {
  // Fold the constant contribution of removed channels (act(beta) of their BN, which is
  // what a channel with gamma ~ 0 outputs) into the next layer's bias or BN running mean,
  // wherever that is exact: Linear consumers and unpadded, ungrouped convs. A zero-padded
  // consumer (every 3x3 pad-1 conv) is left alone and reported (BetaFoldReport::skipped):
  // its border pixels see only part of the kernel, so no per-channel bias is exact there.
  bool foldBeta = false;
  bool forwardCheck = true;
};


// What foldBeta did: consumers whose bias (or BN mean) absorbed removed constants, and
// consumers that read non-zero removed constants but could not absorb them exactly.
struct BetaFoldReport {
  std::vector<std::string> folded;
  std::vector<std::pair<std::string, std::string>> skipped;  // (consumer, reason)
};

struct SurgeryResult {
  Graph graph;
  std::vector<SurgeryLogEntry> log;
  BetaFoldReport betaFold;
};

// `graph` must have shapes inferred (the same graph `deps` was built from).
SurgeryResult applySurgery(const DependencyGraph& deps, const PrunePlan& plan, const SurgeryOptions& options = {});

}  // namespace prunelab
