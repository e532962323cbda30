// Linear: weight [O, I], optional bias [O]; applies to the last dimension.

#include <ATen/ATen.h>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> linearForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::linear(in[0], n.tensor("weight"), n.optionalTensor("bias"))};
}

std::vector<Shape> linearShape(const Node& n, const std::vector<Shape>& in) {
  Shape x = in.at(0);
  const auto w = n.tensor("weight").sizes();
  if (x.empty() || x.back() != w[1])
    throw Error(n.name, "input " + shapeToString(x) + " has " + std::to_string(x.empty() ? 0 : x.back()) +
                            " features, weight expects " + std::to_string(w[1]));
  x.back() = w[0];
  return {x};
}

// Weights and bias once per row of the input (the dims between batch and features).
int64_t linearMacsPerElement(const Node&, const NamedTensor& t, const std::vector<Shape>&, const std::vector<Shape>& out,
                             MacsConvention) {
  int64_t rows = 1;
  for (size_t d = 1; d + 1 < out.at(0).size(); ++d) rows *= out[0][d];
  return t.name == "weight" || t.name == "bias" ? rows : 0;
}

// [N, I] inputs: Gemm(transB). Batched inputs: x @ W^T (+ b); the tag keeps W as the weight.
void linearToOnnx(OnnxEmitter& e, const Node& n) {
  const at::Tensor w = n.tensor("weight");
  const std::string& x = e.inputs()[0];
  const std::string& y = e.outputs()[0];
  if (e.graph().value(n.inputs[0]).shape.size() == 2) {
    std::vector<std::string> in{x, e.param("weight", w)};
    if (n.hasTensor("bias")) in.push_back(e.param("bias", n.tensor("bias")));
    e.op("Gemm", in, y).attr("transB", int64_t{1});
    return;
  }
  const std::string wt = e.param("weight", w, /*transposed=*/true);
  if (n.hasTensor("bias")) e.op("Add", {e.op("MatMul", {x, wt}).out(), e.param("bias", n.tensor("bias"))}, y);
  else e.op("MatMul", {x, wt}, y);
}

void linearToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.linear(" + e.inputs()[0] + ", " + e.tensor(n, "weight") + ", " + e.optionalTensor(n, "bias") + ")");
}

// Gemm(A, B, C) with alpha/beta folded into the weight and bias.
void gemmFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  if (n.attrInt("transA", 0)) ctx.unsupported(n, "transA");
  at::Tensor w = ctx.constInput(n, 1).to(at::kFloat);
  if (!n.attrInt("transB", 0)) w = w.t();
  w = (w * n.attrFloat("alpha", 1.0)).contiguous();
  std::vector<NamedTensor> t = {{"weight", w, false}};
  if (n.hasInput(2)) {
    at::Tensor b = ctx.constInput(n, 2).to(at::kFloat) * n.attrFloat("beta", 1.0);
    if (b.numel() != w.size(0)) ctx.unsupported(n, "bias that is not one value per output");
    t.push_back({"bias", b.reshape({w.size(0)}).contiguous(), false});
  }
  const std::string scope = ctx.scopeFor(n, n.input(1));
  const ValueId x = ctx.valueOf(n.input(0), n.name());
  ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(OpKind::Linear, scope, {x}, {}, std::move(t), 1, scope)));
}

// MatMul of an [N, I] value by a 2-D initializer is a Linear (a following Add of a bias
// joins it: elementwise_ops.cpp); any other MatMul stays a MatMul.
void matmulFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const OnnxRef& b = ctx.ref(n.input(1), n.name());
  if (b.isConst() && b.constant.dim() == 2 && ctx.shapeOf(n.input(0), n).size() == 2) {
    const std::string scope = ctx.scopeFor(n, n.input(1));
    const at::Tensor w = b.constant.to(at::kFloat).t().contiguous();
    const ValueId x = ctx.valueOf(n.input(0), n.name());
    return ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(OpKind::Linear, scope, {x}, {}, {{"weight", w, false}}, 1, scope)));
  }
  ctx.simple(n, OpKind::MatMul, {}, 2);
}

}  // namespace

void addLinearOps(OpRegistry& r) {
  OpSpec s;
  s.kind = OpKind::Linear;
  s.forward = linearForward;
  s.inferShapes = linearShape;
  s.macsPerElement = linearMacsPerElement;
  s.channelRule = ChannelRule::Linear;
  s.outputReusable = true;
  s.layout = {{"weight", 0, 1}, {"bias", 0, -1}};  // weight [O, I], bias [O]
  s.isChannelSource = true;
  s.onnxExport = linearToOnnx;
  s.torchScript = linearToScript;
  r.add(s);
  r.addOnnxImport("Gemm", gemmFromOnnx);
  r.addOnnxImport("MatMul", matmulFromOnnx);
}

}  // namespace prunelab::ops
