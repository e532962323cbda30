#include "io/onnx_tensor.h"

#include <ATen/ATen.h>
#include <onnx/onnx_pb.h>

#include <cstring>

#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

namespace {

at::ScalarType scalarTypeOf(int32_t elemType, const std::string& where) {
  switch (elemType) {
    case onnx::TensorProto::FLOAT: return at::kFloat;
    case onnx::TensorProto::DOUBLE: return at::kDouble;
    case onnx::TensorProto::INT32: return at::kInt;
    case onnx::TensorProto::INT64: return at::kLong;
    case onnx::TensorProto::UINT8: return at::kByte;
    case onnx::TensorProto::BOOL: return at::kBool;
    default:
      throw Error(where, "tensor element type " + std::to_string(elemType) + " is not supported");
  }
}

int32_t elemTypeOf(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return onnx::TensorProto::FLOAT;
    case at::kDouble: return onnx::TensorProto::DOUBLE;
    case at::kInt: return onnx::TensorProto::INT32;
    case at::kLong: return onnx::TensorProto::INT64;
    case at::kByte: return onnx::TensorProto::UINT8;
    case at::kBool: return onnx::TensorProto::BOOL;
    default: throw Error("ONNX export", std::string("tensor dtype ") + c10::toString(t) + " is not supported");
  }
}

template <typename Field>
at::Tensor fromField(const Field& field, const std::vector<int64_t>& dims, at::ScalarType type, int64_t numel) {
  if (static_cast<int64_t>(field.size()) != numel) return {};
  at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
  switch (type) {
    case at::kFloat: std::copy(field.begin(), field.end(), t.data_ptr<float>()); break;
    case at::kDouble: std::copy(field.begin(), field.end(), t.data_ptr<double>()); break;
    case at::kInt: std::copy(field.begin(), field.end(), t.data_ptr<int32_t>()); break;
    case at::kLong: std::copy(field.begin(), field.end(), t.data_ptr<int64_t>()); break;
    case at::kByte: std::copy(field.begin(), field.end(), t.data_ptr<uint8_t>()); break;
    case at::kBool: std::copy(field.begin(), field.end(), t.data_ptr<bool>()); break;
    default: return {};
  }
  return t;
}

}  // namespace

at::Tensor tensorFromOnnx(const onnx::TensorProto& proto, const std::string& where) {
  if (proto.data_location() == onnx::TensorProto::EXTERNAL)
    throw Error(where, "tensor '" + proto.name() + "' uses external data (save the model as one file)");
  const at::ScalarType type = scalarTypeOf(proto.data_type(), where);
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  const int64_t numel = checkedNumel(where + ": tensor '" + proto.name() + "'", dims);
  const size_t bytes = static_cast<size_t>(numel) * c10::elementSize(type);
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      throw Error(where, "tensor '" + proto.name() + "' has " + std::to_string(proto.raw_data().size()) +
                             " bytes of data, its shape needs " + std::to_string(bytes));
  }
  if (proto.has_raw_data()) {
    at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
    if (bytes) std::memcpy(t.data_ptr(), proto.raw_data().data(), bytes);  // ONNX raw data is little-endian
    return t;
  }
  at::Tensor r;
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT: r = fromField(proto.float_data(), dims, type, numel); break;
    case onnx::TensorProto::DOUBLE: r = fromField(proto.double_data(), dims, type, numel); break;
    case onnx::TensorProto::INT64: r = fromField(proto.int64_data(), dims, type, numel); break;
    default: r = fromField(proto.int32_data(), dims, type, numel); break;  // int32, uint8, bool
  }
  if (!r.defined())
    throw Error(where, "tensor '" + proto.name() + "' holds a different number of values than its shape needs");
  return r;
}

void tensorToOnnx(const at::Tensor& t, const std::string& name, onnx::TensorProto& proto) {
  const at::Tensor c = t.detach().to(at::kCPU).contiguous();
  proto.set_name(name);
  proto.set_data_type(elemTypeOf(c.scalar_type()));
  for (int64_t d : c.sizes()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * c.element_size()));
}

}  // namespace prunelab
