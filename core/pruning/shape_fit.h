#pragma once
// Shrinks a freshly built model to the channel counts of a pruned state_dict, so that the
// pruned file's tensors load into it. A pruned yolov5/ultralytics checkpoint still carries
// the `yaml` of the model it was cut from: the builder makes the full widths from it, and
// this finds, group by group, how many channels the file kept.
//
// How: every tensor dim that a dependency group's channels index (DependencyGraph::members)
// gives one equation: file size = built size - sum over the groups in that dim of
// (channels removed x positions per channel). Equations with one unknown left are solved
// until none remain (a C2f's second half from the bottleneck that reads it, then its first
// half from cv1's output). Which channels go does not matter: the file's tensors replace
// them all; the last unpinned ones are removed.

#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "io/state_dict.h"

namespace prunelab {

// True when every tensor of `stateDict` that the graph has matches its shape already.
bool shapesMatch(const Graph& graph, const StateDict& stateDict);

// The graph cut to the file's widths (shapes inferred at `graph`'s input). Throws
// prunelab::Error naming `source` when the widths cannot be explained by channel pruning
// (a group's count is ambiguous or contradictory, a pinned channel would have to go).
Graph fitToStateDict(const Graph& graph, const StateDict& stateDict, const std::string& source);

}  // namespace prunelab
