#include "io/onnx_constants.h"

#include <ATen/ATen.h>
#include <onnx/onnx_pb.h>

#include <algorithm>

#include "ops/op_table.h"

namespace prunelab {

bool importConstantSource(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const std::string& op = n.opType();
  if (op == "Constant") {
    at::Tensor v = n.attrTensor("value", ctx.path());
    if (v.defined()) return ctx.setConst(n, 0, v), true;
    if (n.hasAttr("value_float")) return ctx.setConst(n, 0, at::scalar_tensor(n.attrFloat("value_float", 0))), true;
    if (n.hasAttr("value_int")) return ctx.setConst(n, 0, at::scalar_tensor(n.attrInt("value_int", 0), at::kLong)), true;
    if (auto ints = n.attrInts("value_ints")) return ctx.setConst(n, 0, at::tensor(*ints, at::kLong)), true;
    if (auto fs = n.attrFloats("value_floats")) {
      std::vector<float> f(fs->begin(), fs->end());
      return ctx.setConst(n, 0, at::tensor(f)), true;
    }
    ctx.unsupported(n, "Constant without a tensor value");
  }
  if (op == "Shape") {
    Shape s = ctx.shapeOf(n.input(0), n);
    const int64_t rank = static_cast<int64_t>(s.size());
    int64_t start = n.attrInt("start", 0), end = n.attrInt("end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    return ctx.setConst(n, 0, at::tensor(std::vector<int64_t>(s.begin() + start, s.begin() + std::max(start, end)), at::kLong)), true;
  }
  return false;
}

bool foldConstantNode(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const std::string& op = n.opType();
  auto c = [&](int i) -> at::Tensor { return ctx.constInput(n, i); };
  auto set = [&](const at::Tensor& t) { return ctx.setConst(n, 0, t), true; };
  if (op == "Identity" || op == "Dropout") return set(c(0));
  if (op == "Cast") {
    const int64_t to = n.attrInt("to", 1);
    at::ScalarType t = to == onnx::TensorProto::INT64 ? at::kLong
                       : to == onnx::TensorProto::INT32 ? at::kInt
                       : to == onnx::TensorProto::DOUBLE ? at::kDouble
                       : to == onnx::TensorProto::BOOL ? at::kBool : at::kFloat;
    return set(c(0).to(t));
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    auto axes = ctx.axesOf(n);
    return set(c(0).reshape(squeezedShape(c(0).sizes().vec(), axes, op == "Unsqueeze")));
  }
  if (op == "Gather") {
    const at::Tensor data = c(0), idx = c(1).to(at::kLong);
    int64_t axis = n.attrInt("axis", 0);
    if (axis < 0) axis += data.dim();
    const at::Tensor fixed = at::where(idx < 0, idx + data.size(axis), idx);
    std::vector<int64_t> s(data.sizes().begin(), data.sizes().begin() + axis);
    for (int64_t d : idx.sizes()) s.push_back(d);
    s.insert(s.end(), data.sizes().begin() + axis + 1, data.sizes().end());
    return set(data.index_select(axis, fixed.reshape(-1)).reshape(s));
  }
  if (op == "Concat") {
    std::vector<at::Tensor> parts;
    for (int i = 0; i < n.inputCount(); ++i) parts.push_back(c(i));
    return set(at::cat(parts, n.attrInt("axis", 0)));
  }
  if (op == "Range") return set(at::arange(c(0).item(), c(1).item(), c(2).item(), c(0).options()));
  if (op == "Expand") return set(c(0) * at::ones(onnxInts(c(1)), c(0).options()));
  if (op == "ConstantOfShape") {
    const at::Tensor v = n.attrTensor("value", ctx.path());
    const at::Tensor fill = v.defined() ? v : at::zeros({1});
    return set(fill.reshape({}).expand(onnxInts(c(0))).clone());
  }
  if (op == "Reshape") {
    auto shape = onnxInts(c(1));
    for (size_t i = 0; i < shape.size(); ++i)
      if (shape[i] == 0) shape[i] = c(0).size(static_cast<int64_t>(i));
    return set(c(0).reshape(shape));
  }
  if (op == "Transpose") {
    auto perm = n.attrInts("perm");
    return set(perm ? c(0).permute(*perm).contiguous() : c(0).t().contiguous());
  }
  if (op == "Add") return set(c(0) + c(1));
  if (op == "Sub") return set(c(0) - c(1));
  if (op == "Mul") return set(c(0) * c(1));
  if (op == "Div") {
    const bool integral = at::isIntegralType(c(0).scalar_type(), true);
    return set(integral ? at::div(c(0), c(1), "floor") : c(0) / c(1));
  }
  if (op == "Pow") return set(at::pow(c(0), c(1)));
  if (op == "Sqrt") return set(c(0).sqrt());
  if (op == "Neg") return set(-c(0));
  if (op == "Floor") return set(c(0).floor());
  if (op == "Equal") return set(at::eq(c(0), c(1)));
  if (op == "Where") return set(at::where(c(0).to(at::kBool), c(1), c(2)));
  if (op == "Sigmoid") return set(c(0).sigmoid());
  if (op == "Slice") {
    at::Tensor t = c(0);
    const auto starts = onnxInts(c(1)), ends = onnxInts(c(2));
    std::vector<int64_t> axes = n.hasInput(3) ? onnxInts(c(3)) : std::vector<int64_t>();
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    const auto steps = n.hasInput(4) ? onnxInts(c(4)) : std::vector<int64_t>(starts.size(), 1);
    Node tmp;
    tmp.name = n.name();
    tmp.attrs = {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}};
    return set(opSpec(OpKind::Slice).forward(tmp, {t}, {})[0].contiguous());
  }
  return false;
}

}  // namespace prunelab
