#pragma once
// ONNX model file -> Graph.
//
// Two paths share one entry point:
// - Any ONNX file (opsets 11-17; PyTorch's torch.onnx.export, other tools): each node is
//   mapped onto IR ops. Constant subgraphs (Constant, Shape, Gather, Unsqueeze, Concat,
//   Cast, Range, Expand ... whose inputs are all known at import) are evaluated at import
//   and become constants; Sigmoid+Mul becomes SiLU, HardSigmoid+Mul Hardswish, Clip(0,6)
//   ReLU6, Gemm and MatMul-by-initializer Linear, Pad+AveragePool one AvgPool. Module
//   scopes (state_dict keys) come from initializer names ("layer1.0.conv1.weight") when
//   present, else from PyTorch's node names ("/layer1/layer1.0/relu/Relu").
//   BatchNormalization is kept as BatchNorm in both its inference form and its training
//   form (extra outputs, unused). Models exported with BN folded (Conv with bias) import
//   as such and prune with weight-norm criteria.
// - The per-op converters live with the ops (ops/*_ops.cpp, registered by ONNX op type;
//   ops/onnx_import_context.h is what they see).
// - Files written by PruneLab's exporter carry a tag per IR node (ONNX doc_string) that
//   names the IR op, node name, scope, attributes and tensors; with `useTags` those nodes
//   come back exactly (DetectDecode, Unflatten, SiLU ... included): import(export(g)) == g.
//   Only while the tagged nodes still fingerprint as exported: after an edit the file is
//   imported as plain ONNX, with a warning.
//
// Shapes: a dynamic batch dim is taken as 1, and Reshape targets whose first entry equals
// the file's batch are rewritten to 0 ("copy the batch"), so the graph runs at any batch.
// A dynamic spatial dim is an error naming the input. Errors name the file and the node;
// an unsupported op names the op and the node.

#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct OnnxImportOptions {
  bool useTags = true;  // false: ignore PruneLab's tags, map every node generically
};

// `warnings` (optional) receives what the import accepted but the user should know: tags
// that no longer match an edited graph (then ignored, see io/onnx_tag.h).
Graph importOnnx(const std::string& path, const OnnxImportOptions& options = {},
                 std::vector<std::string>* warnings = nullptr);
// The same from a serialized model in memory; `name` stands for the file in errors and
// gives the model's default name.
Graph importOnnxFromString(const std::string& bytes, const OnnxImportOptions& options = {},
                           const std::string& name = "memory.onnx", std::vector<std::string>* warnings = nullptr);

// True for a path ending in ".onnx" (case-insensitive).
bool isOnnxPath(const std::string& path);

}  // namespace prunelab
