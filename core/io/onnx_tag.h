#pragma once
// PruneLab's tag on exported ONNX nodes: the first ONNX node written for an IR node
// carries, in its doc_string, "prunelab:" + JSON {op, name, scope, attrs, tensors (name,
// initializer, buffer, transpose), inputs, outputs, nodes (how many ONNX nodes the IR node
// spans)}. Written by io/onnx_export, read back by io/onnx_import; runtimes ignore it.

#include <string>

namespace prunelab {

inline constexpr const char* kOnnxTagPrefix = "prunelab:";

inline bool isOnnxTag(const std::string& docString) { return docString.rfind(kOnnxTagPrefix, 0) == 0; }

}  // namespace prunelab
