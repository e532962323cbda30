#pragma once
// A core Graph as the widgets' NetworkView: nodes (id, name, scope, op, output shape) and
// producer -> consumer edges. Costs, groups and channel counts are left for the caller
// (the workbench fills them from its plan, the report from the before/after graphs).

#include "graph/graph.h"
#include "widgets/view_model.h"

namespace prunelab::report {

widgets::NetworkView networkStructure(const Graph& graph);

// Output channels of a node (dim 1 of a 4-D or 2-D output), 0 when it has none.
int outputChannels(const Graph& graph, const Node& node);

}  // namespace prunelab::report
