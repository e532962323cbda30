#pragma once
// Composite ops (OpSpec::lowered) have no forward, ONNX or TorchScript form of their
// own: the executor and the exporters ask for the op's lowering pass and run or write
// the primitive fragment it returns (passes/lower_detect_decode.h describes the form).

#include <vector>

#include "graph/graph.h"

namespace prunelab::passes {

// Returns the fragment for one node: inputs = the node's inputs (shapes as given),
// outputs = the node's outputs, made of primitive ops only.
using LowerFn = Graph (*)(const Node& node, const std::vector<Shape>& inputShapes);

// The lowering of `kind`, nullptr for a primitive op.
LowerFn loweringFor(OpKind kind);

// The fragment for `node` with shapes inferred (throws prunelab::Error naming the node
// when its kind has no lowering).
Graph lowerNode(const Node& node, const std::vector<Shape>& inputShapes);

}  // namespace prunelab::passes
