#pragma once
// PruneLab's tag on exported ONNX nodes: the first ONNX node written for an IR node
// carries, in its doc_string, "prunelab:" + JSON {op, name, scope, attrs, tensors (name,
// init or value, buffer, transpose), inputs, outputs, nodes (how many ONNX nodes the IR node
// spans), fp (see onnxGroupFingerprint)}. A tensor is the initializer named by "init", or,
// when no ONNX node reads it (BatchNorm's num_batches_tracked, YOLOv5's anchors), "value":
// its TensorProto in base64, so that the file holds no initializer a runtime would drop.
// Written by io/onnx_export, read back by io/onnx_import; runtimes ignore it.

#include <map>
#include <string>
#include <vector>

namespace onnx {
class GraphProto;
}

namespace prunelab {

inline constexpr const char* kOnnxTagPrefix = "prunelab:";

inline bool isOnnxTag(const std::string& docString) { return docString.rfind(kOnnxTagPrefix, 0) == 0; }

// The tag's "fp": a fingerprint of the ONNX nodes the tag spans, [first, first + count)
// (op types, names, inputs, outputs, attributes) and of the shapes of the initializers
// they read or the tag lists (`tagInits`). The importer uses a tag only when the
// fingerprint still matches, so a graph edited after the export (by the user or another
// tool) is imported as what it now is, not as what PruneLab once wrote.
std::string onnxGroupFingerprint(const onnx::GraphProto& gp, int first, int count, const std::vector<std::string>& tagInits);

}  // namespace prunelab
