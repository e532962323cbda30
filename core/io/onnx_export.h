#pragma once
// Graph -> ONNX model file (any graph: zoo, YOLO, imported, pruned).
//
// - Opsets 13 to 17 (IR version 8, what onnx 1.12 and OpenCV DNN 4.6 read).
// - Dynamic batch: the inputs' and outputs' first dim is the symbol "batch"; reshapes copy
//   the batch (0) instead of baking it in. Other dims are fixed at the graph's shapes.
//   Static (dynamicBatch false): the first dim is `batch`, for runtimes that time or
//   compile one shape (a latency command, TensorRT engines).
// - `foldBn`: each BatchNorm that directly follows a Conv (the Conv's only consumer) is
//   folded into the Conv's weight and bias (passes/fold_batchnorm), the deployment form.
//   Eval-mode semantics.
// - Each op's ONNX form lives with the op (OpSpec::onnxExport, ops/onnx_emitter.h); a
//   composite op (the YOLO decode) is written as its lowering's primitives (passes/).
// - Every ONNX node stays a standard op; PruneLab's own description of the IR node it
//   came from (op, name, scope, attrs, tensors) is kept in the first node's doc_string,
//   so importOnnx() rebuilds the graph exactly (io/onnx_import.h). Composite IR ops
//   (SiLU, Hardswish below opset 14, DetectDecode, Unflatten) become several ONNX nodes.
// - Initializers are named by state_dict key (scope + "." + tensor), as PyTorch does.
// The file is written atomically (temp file + rename). Throws prunelab::Error naming the
// path or the node that cannot be exported.

#include <string>

#include "graph/graph.h"

namespace prunelab {

struct OnnxExportOptions {
  int opset = 17;
  bool foldBn = false;
  bool dynamicBatch = true;
  int batch = 1;  // the first dim a static export (dynamicBatch false) fixes
};

// `inputChw`: the input size to export at (C x H x W); empty = the graph's default input.
void exportOnnx(const Graph& graph, const std::string& path, const OnnxExportOptions& options = {},
                const Shape& inputChw = {});
// The same model as serialized bytes (tests, in-memory round trips).
std::string exportOnnxToString(const Graph& graph, const OnnxExportOptions& options = {}, const Shape& inputChw = {});

}  // namespace prunelab
