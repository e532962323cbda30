#pragma once
// Eval-mode inference on a Graph, without exposing torch::nn to callers.

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

// Runs `graph` in eval mode without autograd on `device` ("cpu", "cuda", ...).
// Inputs are moved to the device; outputs are returned on the CPU.
// The graph's tensors are moved to `device` (and stay there).
std::vector<at::Tensor> runInference(Graph& graph, const std::vector<at::Tensor>& inputs,
                                     const std::string& device = "cpu");

}  // namespace prunelab
