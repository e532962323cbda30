#pragma once
// Constant subgraphs of ONNX files, evaluated at import: Constant and Shape nodes, and any
// node whose inputs are all known (Gather, Unsqueeze, Concat, Cast, Range, Expand... the
// shape arithmetic PyTorch's exporter writes). Their results are tensors, not IR nodes.

#include "ops/onnx_import_context.h"

namespace prunelab {

// Constant and Shape: always known at import. False for other op types.
bool importConstantSource(OnnxImportContext& ctx, const OnnxNodeView& n);
// Evaluates a node whose inputs are all constants; false when the op has no folding rule.
bool foldConstantNode(OnnxImportContext& ctx, const OnnxNodeView& n);

}  // namespace prunelab
