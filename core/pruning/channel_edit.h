#pragma once
// Hand edits of one group's removed channels (the workbench's channel bars) under the
// planners' constraints (pruning/planner.h), so a clicked plan obeys the same rules as a
// planned one: pinned channels stay, the minimum stays, and the kept count is one the
// planner could have produced (a multiple of roundTo, or the group's full width).
//
// A click that prunes rounds the kept count *down* to the next allowed width: the
// clicked channels go, and when that leaves an off-grid width the lowest-scored other
// channels go too (with round-to 8, clicking one bar of a 64-channel layer keeps 56).
// Rounding up instead would undo the click. A click that keeps rounds *up* as the
// planner does (roundKeep): the clicked channels come back, and the highest-scored
// other removed channels with them until the width is allowed.
// When not one more channel can go (the minimum, rounded up to roundTo, is reached) a
// prune click is refused with an Error naming the layer and the limit.

#include <cstdint>
#include <vector>

#include "pruning/dependency_graph.h"
#include "pruning/planner.h"

namespace prunelab {

struct ChannelEdit {
  std::vector<int64_t> removed;  // the group's new removed channels, sorted
  // Channels changed beyond the clicked ones to keep the width allowed (0 with roundTo 1).
  int64_t rounded = 0;
};

// `removed`: the group's removed channels before the edit; `channels`: the clicked ones
// (pinned, out-of-range and already-in-state channels are ignored); `prune`: remove them
// (else keep them). `scores` pick the extra channels; non-finite scores count as 0.
ChannelEdit toggleChannels(const Group& g, const std::vector<double>& scores, const std::vector<int64_t>& removed,
                           const std::vector<int64_t>& channels, bool prune, const PlanConstraints& c);

}  // namespace prunelab
