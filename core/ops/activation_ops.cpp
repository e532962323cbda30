// Pointwise activations: shape and channels pass through.

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> reluForward(const Node&, const std::vector<at::Tensor>& in, const OpContext& ctx) {
  return {ctx.mayReuseInput ? at::relu_(const_cast<at::Tensor&>(in[0])) : at::relu(in[0])};
}
std::vector<at::Tensor> relu6Forward(const Node&, const std::vector<at::Tensor>& in, const OpContext& ctx) {
  if (ctx.mayReuseInput) return {at::hardtanh_(const_cast<at::Tensor&>(in[0]), 0.0, 6.0)};
  return {at::hardtanh(in[0], 0.0, 6.0)};
}
std::vector<at::Tensor> siluForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::silu(in[0])};
}
std::vector<at::Tensor> leakyReluForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::leaky_relu(in[0], n.attrs.getFloat("negative_slope", 0.01))};
}
std::vector<at::Tensor> sigmoidForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::sigmoid(in[0])};
}
std::vector<at::Tensor> hardswishForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::hardswish(in[0])};
}

// A constant channel stays constant: f(x) per channel.
template <double (*F)(const Node&, double)>
std::optional<double> mapped(const ConstantQuery& q) {
  if (auto x = q.input(0, q.channel)) return F(q.node, *x);
  return std::nullopt;
}
double relu(const Node&, double x) { return std::max(0.0, x); }
double relu6(const Node&, double x) { return std::clamp(x, 0.0, 6.0); }
double silu(const Node&, double x) { return x / (1.0 + std::exp(-x)); }
double sigmoid(const Node&, double x) { return 1.0 / (1.0 + std::exp(-x)); }
double leakyRelu(const Node& n, double x) { return x >= 0 ? x : x * n.attrs.getFloat("negative_slope", 0.01); }
double hardswish(const Node&, double x) { return x * std::clamp(x + 3.0, 0.0, 6.0) / 6.0; }

// --- ONNX and TorchScript forms ---------------------------------------------------------------

void reluToOnnx(OnnxEmitter& e, const Node&) { e.op("Relu", {e.inputs()[0]}, e.outputs()[0]); }
void relu6ToOnnx(OnnxEmitter& e, const Node&) {
  e.op("Clip", {e.inputs()[0], e.floats({0.f}, "min"), e.floats({6.f}, "max")}, e.outputs()[0]);
}
void sigmoidToOnnx(OnnxEmitter& e, const Node&) { e.op("Sigmoid", {e.inputs()[0]}, e.outputs()[0]); }
// No SiLU in ONNX: x * sigmoid(x) (the importer fuses the pair back).
void siluToOnnx(OnnxEmitter& e, const Node&) {
  const std::string& x = e.inputs()[0];
  e.op("Mul", {x, e.op("Sigmoid", {x}).out()}, e.outputs()[0]);
}
void leakyReluToOnnx(OnnxEmitter& e, const Node& n) {
  e.op("LeakyRelu", {e.inputs()[0]}, e.outputs()[0]).attr("alpha", n.attrs.getFloat("negative_slope", 0.01));
}
// HardSwish is opset 14; before it x * HardSigmoid(x, 1/6, 0.5) (fused back on import).
void hardswishToOnnx(OnnxEmitter& e, const Node&) {
  const std::string& x = e.inputs()[0];
  if (e.opset() >= 14) {
    e.op("HardSwish", {x}, e.outputs()[0]);
    return;
  }
  const std::string hs = e.op("HardSigmoid", {x}).attr("alpha", 1.0 / 6).attr("beta", 0.5).out();
  e.op("Mul", {x, hs}, e.outputs()[0]);
}

void reluToScript(ScriptEmitter& e, const Node&) { e.assign("torch.relu(" + e.inputs()[0] + ")"); }
void relu6ToScript(ScriptEmitter& e, const Node&) { e.assign("torch.hardtanh(" + e.inputs()[0] + ", 0.0, 6.0)"); }
void siluToScript(ScriptEmitter& e, const Node&) { e.assign("torch.silu(" + e.inputs()[0] + ")"); }
void leakyReluToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.leaky_relu(" + e.inputs()[0] + ", " + scriptNum(n.attrs.getFloat("negative_slope", 0.01)) + ")");
}
void sigmoidToScript(ScriptEmitter& e, const Node&) { e.assign("torch.sigmoid(" + e.inputs()[0] + ")"); }
void hardswishToScript(ScriptEmitter& e, const Node&) { e.assign("torch.hardswish(" + e.inputs()[0] + ")"); }

// --- ONNX import ---------------------------------------------------------------------------------

void reluFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) { ctx.simple(n, OpKind::ReLU); }
void sigmoidFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) { ctx.simple(n, OpKind::Sigmoid); }
void hardswishFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) { ctx.simple(n, OpKind::Hardswish); }
void leakyReluFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  ctx.simple(n, OpKind::LeakyReLU, {{"negative_slope", n.attrFloat("alpha", 0.01)}});
}
// Clip is read as ReLU6 (0, 6) or ReLU (0, inf).
void clipFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  if (ctx.opset() < 11) {
    lo = n.attrFloat("min", lo);
    hi = n.attrFloat("max", hi);
  } else {
    if (n.hasInput(1)) lo = ctx.constInput(n, 1).item<double>();
    if (n.hasInput(2)) hi = ctx.constInput(n, 2).item<double>();
  }
  if (lo == 0 && hi == 6) return ctx.simple(n, OpKind::ReLU6);
  if (lo == 0 && std::isinf(hi)) return ctx.simple(n, OpKind::ReLU);
  ctx.unsupported(n, "Clip is read as ReLU6 (0, 6) or ReLU (0, inf) only");
}

OpSpec activation(OpKind kind, ForwardFn fn, bool inPlace, bool outputReusable, ConstantFn constant, OnnxExportFn onnx,
                  TorchScriptFn script) {
  OpSpec s;
  s.kind = kind;
  s.forward = fn;
  s.inferShapes = sameShapeAsInput;
  s.zeroCost = true;
  s.channelRule = ChannelRule::PassThrough;
  s.canRunInPlace = inPlace;
  s.outputReusable = outputReusable;
  s.isActivation = true;
  s.isElementwise = true;
  s.constantFn = constant;
  s.onnxExport = onnx;
  s.torchScript = script;
  return s;
}

}  // namespace

void addActivationOps(OpRegistry& r) {
  // In-place variants are used only where autograd allows it (the executor checks that
  // the producer's output is reusable). relu/hardtanh/sigmoid save their *output* for
  // backward, so their output must not be overwritten downstream (outputReusable=false).
  // silu/leaky_relu/hardswish backward need their *input*: computed in place they would
  // destroy it under autograd, so they run out of place; their fresh output is reusable.
  r.add(activation(OpKind::ReLU, reluForward, true, false, mapped<relu>, reluToOnnx, reluToScript));
  r.add(activation(OpKind::ReLU6, relu6Forward, true, false, mapped<relu6>, relu6ToOnnx, relu6ToScript));
  r.add(activation(OpKind::SiLU, siluForward, false, true, mapped<silu>, siluToOnnx, siluToScript));
  r.add(activation(OpKind::LeakyReLU, leakyReluForward, false, true, mapped<leakyRelu>, leakyReluToOnnx, leakyReluToScript));
  r.add(activation(OpKind::Sigmoid, sigmoidForward, false, false, mapped<sigmoid>, sigmoidToOnnx, sigmoidToScript));
  r.add(activation(OpKind::Hardswish, hardswishForward, false, true, mapped<hardswish>, hardswishToOnnx, hardswishToScript));
  // SiLU and Hardswish below opset 14 come from fused pairs (io/onnx_import.cpp).
  r.addOnnxImport("Relu", reluFromOnnx);
  r.addOnnxImport("Sigmoid", sigmoidFromOnnx);
  r.addOnnxImport("HardSwish", hardswishFromOnnx);
  r.addOnnxImport("LeakyRelu", leakyReluFromOnnx);
  r.addOnnxImport("Clip", clipFromOnnx);
}

}  // namespace prunelab::ops
