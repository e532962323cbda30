#pragma once
// Graph -> TorchScript module file, loadable with torch.jit.load (Python) and
// torch::jit::load (C++), for deployment or further training outside PruneLab.
//
// The module holds the graph's tensors in a module tree that follows the scopes, so its
// state_dict keys are the graph's ("layer1.0.conv1.weight"); parameters keep
// requires_grad, buffers are buffers. `forward` is generated TorchScript source, one
// statement per IR node, calling the same ATen ops as the executor; BatchNorm follows
// `self.training` (batch statistics and running-stat updates in train mode), so
// model.train() / model.eval() work as for any nn.Module. Unlike the executor, the YOLO
// decode also runs in train mode (it is differentiable), so forward returns the same
// tuple in both modes: the graph's outputs in order (one output: a tensor).
// The decode's grids are fixed at the export size (`inputChw`, default: the graph's).
// Written atomically. Throws prunelab::Error naming the node that cannot be expressed.

#include <string>

#include "graph/graph.h"

namespace prunelab {

void exportTorchScript(const Graph& graph, const std::string& path, const Shape& inputChw = {});

// The generated forward source (for tests and for the curious).
std::string torchScriptSource(const Graph& graph, const Shape& inputChw = {});

}  // namespace prunelab
