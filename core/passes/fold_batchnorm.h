#pragma once
// Pass: fold each BatchNorm into the Conv before it - the deployment form.
//
// A BatchNorm folds when its input is a Conv's output that nothing else reads and that is
// not a graph output. The Conv's weight becomes w * s (per output channel) and its bias
// (b - running_mean) * s + beta, with s = gamma / sqrt(running_var + eps): eval-mode
// semantics, so the result is for inference and export, not for training. The Conv
// keeps its name and scope; the BatchNorm's output value becomes the Conv's (the
// BatchNorm's value name is kept, so graph outputs and later readers see the same name).
// New tensors are made: the source graph is not modified.

#include "graph/graph.h"

namespace prunelab::passes {

struct FoldBatchNormReport {
  int folded = 0;  // BatchNorms removed
};

Graph foldBatchNorm(const Graph& graph, FoldBatchNormReport* report = nullptr);

}  // namespace prunelab::passes
