#pragma once
// Base64 (RFC 4648, with padding) for binary data kept inside text: a trainer checkpoint's
// object tree in a graph's metadata (io/torch_save), a tensor inside an ONNX node's tag
// (io/onnx_export).

#include <string>

namespace prunelab {

std::string base64Encode(const std::string& bytes);
// Throws prunelab::Error(subject, `what` + " is damaged (not base64)") on a character
// outside the alphabet; decoding stops at the first '='.
std::string base64Decode(const std::string& text, const std::string& subject, const std::string& what);

}  // namespace prunelab
