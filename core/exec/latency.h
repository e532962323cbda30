#pragma once
// Measured inference latency: the number the Compare panel and the report show.

#include <utility>

#include "graph/graph.h"

namespace prunelab {

// Median wall time in ms of one batch-1 eval-mode forward at the graph's default input
// size, after 3 warm-up runs, on the CPU with the current thread settings.
double measureLatencyMs(Graph& graph, int iters = 15);
// The lower quartile of `iters` runs on a random input of shape `nchw` (any batch), after
// 3 warm-up runs: what a planner compares against a target on a shared machine.
double measureLatencyMs(Graph& graph, const Shape& nchw, int iters);

// The same for two models measured alternately (a, b, a, b, ...), so that load from other
// processes and frequency changes hit both alike: the fair before/after comparison. Each
// is the lower quartile of its runs: on a shared machine the upper half is mostly other
// processes' noise, which says nothing about the model.
std::pair<double, double> measureLatencyPairMs(Graph& a, Graph& b, int iters = 21);

}  // namespace prunelab
