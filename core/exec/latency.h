#pragma once
// Measured inference latency: the number the Compare panel and the report show.

#include "graph/graph.h"

namespace prunelab {

// Median wall time in ms of one batch-1 eval-mode forward at the graph's default input
// size, after 3 warm-up runs, on the CPU with the current thread settings.
double measureLatencyMs(Graph& graph, int iters = 15);

}  // namespace prunelab
