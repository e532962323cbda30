// Pooling. Attrs: kernel [2], stride [2] (default = kernel), padding [2], dilation [2]
// (MaxPool), ceil_mode, count_include_pad (AvgPool).

#include <ATen/ATen.h>

#include <algorithm>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<int64_t> strideOf(const Node& n) {
  return n.attrs.has("stride") ? n.attrs.getInts("stride") : n.attrs.getInts("kernel");
}

std::vector<at::Tensor> maxPoolForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::max_pool2d(in[0], n.attrs.getInts("kernel"), strideOf(n), n.attrs.getInts("padding", {0, 0}),
                         n.attrs.getInts("dilation", {1, 1}), n.attrs.getInt("ceil_mode", 0) != 0)};
}

std::vector<at::Tensor> avgPoolForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::avg_pool2d(in[0], n.attrs.getInts("kernel"), strideOf(n), n.attrs.getInts("padding", {0, 0}),
                         n.attrs.getInt("ceil_mode", 0) != 0, n.attrs.getInt("count_include_pad", 1) != 0)};
}

std::vector<at::Tensor> globalAvgPoolForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::adaptive_avg_pool2d(in[0], {1, 1})};
}

// PyTorch's pooling output size, including the ceil_mode rule that the last window
// must start inside the (left-padded) input.
int64_t pooledSize(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  const int64_t span = in + 2 * p - d * (k - 1) - 1;
  int64_t out = (span + (ceil ? s - 1 : 0)) / s + 1;
  if (ceil && (out - 1) * s >= in + p) --out;
  return out;
}

std::vector<Shape> poolShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  expectRank(n, x, 4);
  // The one place a pooling window is checked (files, YAML and builders all end here).
  const auto k = windowAttr(n, "kernel", {}, 1);
  const auto s = windowAttr(n, "stride", k, 1);
  const auto p = windowAttr(n, "padding", {0, 0}, 0);
  const auto d = windowAttr(n, "dilation", {1, 1}, 1);
  const bool ceil = n.attrs.getInt("ceil_mode", 0) != 0;
  const int64_t h = pooledSize(x[2], k[0], s[0], p[0], d[0], ceil);
  const int64_t w = pooledSize(x[3], k[1], s[1], p[1], d[1], ceil);
  if (h <= 0 || w <= 0) throw Error(n.name, "input " + shapeToString(x) + " is too small for the window");
  return {{x[0], x[1], h, w}};
}

std::vector<Shape> globalPoolShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  expectRank(n, x, 4);
  return {{x[0], x[1], 1, 1}};
}

bool hasPadding(const Node& n) {
  for (int64_t p : n.attrs.getInts("padding", {0, 0}))
    if (p != 0) return true;
  return false;
}

// A padded average pool that counts the padding scales a constant down at the borders:
// it is no longer one value per channel. Max pooling pads with -inf, so it keeps it.
std::optional<double> avgPoolConstant(const ConstantQuery& q) {
  if (hasPadding(q.node) && q.node.attrs.getInt("count_include_pad", 1) != 0) return std::nullopt;
  return q.input(0, q.channel);
}

// --- ONNX and TorchScript forms ---------------------------------------------------------------

OnnxNode poolToOnnx(OnnxEmitter& e, const Node& n, const std::string& type) {
  const auto k = n.attrs.getInts("kernel");
  const auto pad = n.attrs.getInts("padding", {0, 0});
  OnnxNode p = e.op(type, {e.inputs()[0]}, e.outputs()[0]);
  p.attr("kernel_shape", k)
      .attr("strides", n.attrs.has("stride") ? n.attrs.getInts("stride") : k)
      .attr("pads", std::vector<int64_t>{pad[0], pad[1], pad[0], pad[1]})
      .attr("ceil_mode", n.attrs.getInt("ceil_mode", 0));
  return p;
}
void maxPoolToOnnx(OnnxEmitter& e, const Node& n) {
  OnnxNode p = poolToOnnx(e, n, "MaxPool");
  const auto d = n.attrs.getInts("dilation", {1, 1});
  if (d != std::vector<int64_t>{1, 1}) p.attr("dilations", d);
}
void avgPoolToOnnx(OnnxEmitter& e, const Node& n) {
  poolToOnnx(e, n, "AveragePool").attr("count_include_pad", n.attrs.getInt("count_include_pad", 1));
}
void globalAvgPoolToOnnx(OnnxEmitter& e, const Node&) { e.op("GlobalAveragePool", {e.inputs()[0]}, e.outputs()[0]); }

std::string kernelAndStride(const Node& n) {
  const auto k = n.attrs.getInts("kernel");
  return scriptList(k) + ", " + scriptList(n.attrs.has("stride") ? n.attrs.getInts("stride") : k);
}
void maxPoolToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.max_pool2d(" + e.inputs()[0] + ", " + kernelAndStride(n) + ", " +
           scriptList(n.attrs.getInts("padding", {0, 0})) + ", " + scriptList(n.attrs.getInts("dilation", {1, 1})) + ", " +
           (n.attrs.getInt("ceil_mode", 0) ? "True" : "False") + ")");
}
void avgPoolToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.avg_pool2d(" + e.inputs()[0] + ", " + kernelAndStride(n) + ", " +
           scriptList(n.attrs.getInts("padding", {0, 0})) + ", " + (n.attrs.getInt("ceil_mode", 0) ? "True" : "False") +
           ", " + (n.attrs.getInt("count_include_pad", 1) ? "True" : "False") + ")");
}
void globalAvgPoolToScript(ScriptEmitter& e, const Node&) {
  e.assign("torch.adaptive_avg_pool2d(" + e.inputs()[0] + ", [1, 1])");
}

// --- ONNX import ---------------------------------------------------------------------------------

void poolFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const bool isMax = n.opType() == "MaxPool";
  if (n.outputCount() > 1 && !n.output(1).empty()) ctx.unsupported(n, "MaxPool indices output");
  if (n.attrString("auto_pad", "NOTSET") != "NOTSET" && n.attrString("auto_pad", "NOTSET") != "VALID")
    ctx.unsupported(n, "auto_pad " + n.attrString("auto_pad", ""));
  const auto kernel = n.attrInts("kernel_shape");
  if (!kernel || kernel->size() != 2) ctx.unsupported(n, "only 2-D pooling");
  auto pads = n.attrInts("pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
  int64_t countIncludePad = n.attrInt("count_include_pad", 0);
  std::string input = n.input(0);
  if (const auto pad = ctx.padBefore(n)) {
    // Pad (zeros on H, W) then AveragePool: PyTorch's export of AvgPool2d(padding=p).
    std::vector<int64_t> pp = pad->attrInts("pads").value_or(std::vector<int64_t>{});
    if (pp.empty() && pad->hasInput(1)) pp = onnxInts(ctx.constInput(*pad, 1));
    const double value = pad->hasInput(2) ? ctx.constInput(*pad, 2).item<double>() : pad->attrFloat("value", 0.0);
    if (pad->attrString("mode", "constant") != "constant" || value != 0 || pp.size() != 8 || pp[0] || pp[1] || pp[4] || pp[5])
      ctx.unsupported(*pad, "only zero padding of H and W before an AveragePool");
    for (int d = 0; d < 4; ++d) pads[d] += pp[d < 2 ? 2 + d : 4 + d];
    countIncludePad = 1;
    input = pad->input(0);
  }
  if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3]) ctx.unsupported(n, "asymmetric padding");
  Attributes a{{"kernel", *kernel},
               {"stride", n.attrInts("strides").value_or(std::vector<int64_t>{1, 1})},
               {"padding", std::vector<int64_t>{pads[0], pads[1]}},
               {"ceil_mode", n.attrInt("ceil_mode", 0)}};
  if (isMax) a.set("dilation", n.attrInts("dilations").value_or(std::vector<int64_t>{1, 1}));
  else a.set("count_include_pad", countIncludePad);
  const std::string scope = ctx.scopeFor(n);
  const ValueId x = ctx.valueOf(input, n.name());
  ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(isMax ? OpKind::MaxPool : OpKind::AvgPool, scope, {x}, std::move(a), {}, 1, scope)));
}

void globalAvgPoolFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) { ctx.simple(n, OpKind::GlobalAvgPool); }

// Only the mean over H and W with keepdims: global average pooling.
void reduceMeanFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  auto axes = ctx.axesOf(n);
  const Shape& s = ctx.shapeOf(n.input(0), n);
  for (auto& a : axes) a = a < 0 ? a + static_cast<int64_t>(s.size()) : a;
  std::sort(axes.begin(), axes.end());
  if (s.size() == 4 && axes == std::vector<int64_t>{2, 3} && n.attrInt("keepdims", 1) == 1)
    return ctx.simple(n, OpKind::GlobalAvgPool);
  ctx.unsupported(n, "only the mean over H and W with keepdims (global average pooling)");
}

OpSpec pool(OpKind kind, ForwardFn fn, ShapeFn shape, ConstantFn constant, OnnxExportFn onnx, TorchScriptFn script) {
  OpSpec s;
  s.kind = kind;
  s.forward = fn;
  s.inferShapes = shape;
  s.zeroCost = true;
  s.channelRule = ChannelRule::PassThrough;
  s.outputReusable = kind != OpKind::MaxPool;  // max_pool2d saves indices, not output; keep it simple
  s.constantFn = constant;
  s.onnxExport = onnx;
  s.torchScript = script;
  return s;
}

}  // namespace

void addPoolOps(OpRegistry& r) {
  r.add(pool(OpKind::MaxPool, maxPoolForward, poolShape, constantPassesThrough, maxPoolToOnnx, maxPoolToScript));
  r.add(pool(OpKind::AvgPool, avgPoolForward, poolShape, avgPoolConstant, avgPoolToOnnx, avgPoolToScript));
  r.add(pool(OpKind::GlobalAvgPool, globalAvgPoolForward, globalPoolShape, constantPassesThrough, globalAvgPoolToOnnx,
             globalAvgPoolToScript));
  r.addOnnxImport("MaxPool", poolFromOnnx);
  r.addOnnxImport("AveragePool", poolFromOnnx);  // with a Pad before it fused in
  r.addOnnxImport("GlobalAveragePool", globalAvgPoolFromOnnx);
  r.addOnnxImport("ReduceMean", reduceMeanFromOnnx);
}

}  // namespace prunelab::ops
