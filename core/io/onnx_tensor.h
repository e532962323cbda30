#pragma once
// ONNX TensorProto <-> at::Tensor, shared by the importer and the exporter.
// Only this header's .cpp and the ONNX translation units include the protobuf headers.

#include <ATen/core/Tensor.h>

#include <string>

namespace onnx {
class TensorProto;
}

namespace prunelab {

// Reads raw_data or the typed fields (float, double, int32, int64, uint8, bool). The result
// is a CPU tensor that owns its memory. Throws prunelab::Error (subject `where`) for
// external data or unsupported element types.
at::Tensor tensorFromOnnx(const onnx::TensorProto& proto, const std::string& where);

// Writes `t` (any device; float, double, int32, int64, bool) as raw_data under `name`.
void tensorToOnnx(const at::Tensor& t, const std::string& name, onnx::TensorProto& proto);

}  // namespace prunelab
