// Data movement: Concat, Split, Upsample (nearest), Flatten, Dropout, Identity.

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

int64_t normAxis(const Node& n, int64_t axis, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r) throw Error(n.name, "axis " + std::to_string(axis) + " out of range");
  return axis < 0 ? axis + r : axis;
}

std::vector<at::Tensor> concatForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::cat(in, n.attrs.getInt("axis", 1))};
}

std::vector<Shape> concatShape(const Node& n, const std::vector<Shape>& in) {
  Shape r = in.at(0);
  const int64_t axis = normAxis(n, n.attrs.getInt("axis", 1), r.size());
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i].size() != r.size()) throw Error(n.name, "inputs of different rank");
    for (size_t d = 0; d < r.size(); ++d)
      if (static_cast<int64_t>(d) != axis && in[i][d] != r[d])
        throw Error(n.name, "cannot concatenate " + shapeToString(in[0]) + " with " + shapeToString(in[i]));
    r[axis] += in[i][axis];
  }
  return {r};
}

std::vector<at::Tensor> splitForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return at::split_with_sizes(in[0], n.attrs.getInts("split"), n.attrs.getInt("axis", 1));
}

std::vector<Shape> splitShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  const int64_t axis = normAxis(n, n.attrs.getInt("axis", 1), x.size());
  const auto& sizes = n.attrs.getInts("split");
  int64_t total = 0;
  std::vector<Shape> r;
  for (int64_t s : sizes) {
    Shape o = x;
    o[axis] = s;
    r.push_back(o);
    total += s;
  }
  if (total != x[axis])
    throw Error(n.name, "split sizes add up to " + std::to_string(total) + ", input has " + std::to_string(x[axis]));
  return r;
}

std::vector<at::Tensor> upsampleForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  const double scale = n.attrs.getFloat("scale");
  const auto& x = in[0];
  const std::vector<int64_t> size = {static_cast<int64_t>(x.size(2) * scale), static_cast<int64_t>(x.size(3) * scale)};
  return {at::upsample_nearest2d(x, size, scale, scale)};
}

std::vector<Shape> upsampleShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  expectRank(n, x, 4);
  const double scale = n.attrs.getFloat("scale");
  if (!(scale > 0 && scale <= 1024)) throw Error(n.name, "upsampling scale " + std::to_string(scale) + " is not in (0, 1024]");
  const int64_t h = static_cast<int64_t>(double(x[2]) * scale), w = static_cast<int64_t>(double(x[3]) * scale);
  if (h <= 0 || w <= 0) throw Error(n.name, "upsampling " + shapeToString(x) + " by " + std::to_string(scale) + " leaves nothing");
  return {{x[0], x[1], h, w}};
}

std::vector<at::Tensor> flattenForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::flatten(in[0], n.attrs.getInt("start_dim", 1))};
}

std::vector<Shape> flattenShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  const int64_t start = normAxis(n, n.attrs.getInt("start_dim", 1), x.size());
  Shape r(x.begin(), x.begin() + start);
  int64_t prod = 1;
  for (size_t d = start; d < x.size(); ++d) prod *= x[d];
  r.push_back(prod);
  return {r};
}

std::vector<at::Tensor> dropoutForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext& ctx) {
  if (!ctx.training) return {in[0]};
  return {at::dropout(in[0], n.attrs.getFloat("p", 0.5), true)};
}

std::vector<at::Tensor> identityForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {in[0]};
}

void splitResizeAttrs(Node& n, const std::vector<int64_t>&, const std::vector<int64_t>& keptOut) {
  if (n.attrs.getInt("axis", 1) == 1) n.attrs.set("split", keptOut);
}

// --- ONNX and TorchScript forms ---------------------------------------------------------------

void concatToOnnx(OnnxEmitter& e, const Node& n) {
  std::vector<std::string> parts;
  for (const auto& v : e.inputs())
    if (!e.omitted(v)) parts.push_back(v);
  e.op("Concat", parts, e.outputs()[0]).attr("axis", n.attrs.getInt("axis", 1));
}

bool onlyConcatsRead(const Graph& g, ValueId v) {
  if (std::find(g.outputs().begin(), g.outputs().end(), v) != g.outputs().end()) return false;
  for (NodeId c : g.value(v).consumers)
    if (g.node(c).op != OpKind::Concat) return false;
  return true;
}

void splitToOnnx(OnnxEmitter& e, const Node& n) {
  const auto sizes = n.attrs.getInts("split");
  const int64_t axis = n.attrs.getInt("axis", 1);
  const auto& x = e.inputs();
  const auto& y = e.outputs();
  if (std::adjacent_find(sizes.begin(), sizes.end(), std::not_equal_to<>()) == sizes.end()) {
    OnnxNode s = e.op("Split", {x[0], e.ints(sizes, "split")}, y[0]);
    for (size_t i = 1; i < y.size(); ++i) s.addOutput(y[i]);
    s.attr("axis", axis);
    return;
  }
  // Unequal parts: one Slice each (OpenCV DNN 4.6 splits evenly only).
  int64_t start = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    // A part pruned to nothing that only Concats read is left out (OpenCV DNN rejects
    // empty slices); Concat skips it.
    if (sizes[i] == 0 && onlyConcatsRead(e.graph(), n.outputs[i])) e.omit(y[i]);
    else e.op("Slice", {x[0], e.ints({start}, "starts"), e.ints({start + sizes[i]}, "ends"), e.ints({axis}, "axes")}, y[i]);
    start += sizes[i];
  }
}

void upsampleToOnnx(OnnxEmitter& e, const Node& n) {
  const float s = static_cast<float>(n.attrs.getFloat("scale"));
  e.op("Resize", {e.inputs()[0], "", e.floats({1.f, 1.f, s, s}, "scales")}, e.outputs()[0])
      .attr("mode", std::string("nearest"))
      .attr("coordinate_transformation_mode", std::string("asymmetric"))
      .attr("nearest_mode", std::string("floor"));
}
void flattenToOnnx(OnnxEmitter& e, const Node& n) {
  e.op("Flatten", {e.inputs()[0]}, e.outputs()[0]).attr("axis", n.attrs.getInt("start_dim", 1));
}
void identityToOnnx(OnnxEmitter& e, const Node&) { e.op("Identity", {e.inputs()[0]}, e.outputs()[0]); }

void concatToScript(ScriptEmitter& e, const Node& n) {
  std::string l;
  for (size_t i = 0; i < e.inputs().size(); ++i) l += (i ? ", " : "") + e.inputs()[i];
  e.assign("torch.cat([" + l + "], " + std::to_string(n.attrs.getInt("axis", 1)) + ")");
}
void splitToScript(ScriptEmitter& e, const Node& n) {
  const std::string parts = "_s" + std::to_string(n.id);
  e.statement(parts + " = torch.split_with_sizes(" + e.inputs()[0] + ", " + scriptList(n.attrs.getInts("split")) + ", " +
              std::to_string(n.attrs.getInt("axis", 1)) + ")");
  for (size_t i = 0; i < n.outputs.size(); ++i) e.statement(e.var(n.outputs[i]) + " = " + parts + "[" + std::to_string(i) + "]");
}
void upsampleToScript(ScriptEmitter& e, const Node& n) {
  const std::string s = scriptNum(n.attrs.getFloat("scale"));
  e.assign("torch.upsample_nearest2d(" + e.inputs()[0] + ", None, [" + s + ", " + s + "])");
}
void flattenToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.flatten(" + e.inputs()[0] + ", " + std::to_string(n.attrs.getInt("start_dim", 1)) + ")");
}
void dropoutToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.dropout(" + e.inputs()[0] + ", " + scriptNum(n.attrs.getFloat("p", 0.5)) + ", self.training)");
}
void identityToScript(ScriptEmitter& e, const Node&) { e.assign(e.inputs()[0]); }

// --- ONNX import ---------------------------------------------------------------------------------

void concatFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  std::vector<ValueId> in;
  for (int i = 0; i < n.inputCount(); ++i) in.push_back(ctx.valueOf(n.input(i), n.name()));
  const std::string scope = ctx.scopeFor(n);
  ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(OpKind::Concat, scope, in, {{"axis", n.attrInt("axis", 1)}}, {}, 1, scope)));
}

// Sizes from the attribute (opset < 13), the input, or equal parts.
void splitFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const Shape& s = ctx.shapeOf(n.input(0), n);
  int64_t axis = n.attrInt("axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(s.size());
  std::vector<int64_t> sizes;
  if (auto a = n.attrInts("split")) sizes = *a;
  else if (n.hasInput(1)) sizes = onnxInts(ctx.constInput(n, 1));
  else {
    const int64_t parts = n.attrInt("num_outputs", n.outputCount());
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(s[axis] / parts + (i < s[axis] % parts ? 1 : 0));
  }
  const std::string scope = ctx.scopeFor(n);
  const ValueId x = ctx.valueOf(n.input(0), n.name());
  const NodeId id = ctx.addNode(OpKind::Split, scope, {x}, {{"axis", axis}, {"split", sizes}}, {}, static_cast<int>(sizes.size()), scope);
  for (int i = 0; i < n.outputCount(); ++i) ctx.setValue(n, i, ctx.graph().node(id).outputs[i]);
}

// Resize / Upsample: nearest, the same integer scale on H and W.
void resizeFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const std::string mode = n.attrString("mode", "nearest");
  if (mode != "nearest") ctx.unsupported(n, "mode " + mode + " (only nearest)");
  const Shape& s = ctx.shapeOf(n.input(0), n);
  if (s.size() != 4) ctx.unsupported(n, "only 4-D inputs");
  std::vector<double> scales;
  auto scalesFrom = [&](const at::Tensor& t) {
    const at::Tensor f = t.to(at::kDouble).contiguous();
    scales.assign(f.data_ptr<double>(), f.data_ptr<double>() + f.numel());
  };
  if (n.opType() == "Upsample") {
    if (auto a = n.attrFloats("scales")) scales = *a;
    else scalesFrom(ctx.constInput(n, 1));
  } else {
    const int scalesInput = ctx.opset() >= 11 ? 2 : 1;
    if (n.hasInput(scalesInput) && ctx.constInput(n, scalesInput).numel() > 0) scalesFrom(ctx.constInput(n, scalesInput));
    if (scales.empty() && n.hasInput(3)) {
      const auto sizes = onnxInts(ctx.constInput(n, 3));
      for (size_t d = 0; d < sizes.size(); ++d) scales.push_back(static_cast<double>(sizes[d]) / s[d]);
    }
  }
  if (scales.size() != 4 || scales[0] != 1 || scales[1] != 1 || scales[2] != scales[3] || scales[2] != std::floor(scales[2]))
    ctx.unsupported(n, "only the same integer scale on H and W");
  ctx.simple(n, OpKind::Upsample, {{"scale", scales[2]}});
}

void flattenFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  ctx.simple(n, OpKind::Flatten, {{"start_dim", n.attrInt("axis", 1)}});
}

// Identity, Dropout (inference) and Cast (of a float tensor) add nothing: the output is
// the input's value.
void aliasFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) { ctx.setValue(n, 0, ctx.valueOf(n.input(0), n.name())); }

OpSpec entry(OpKind kind, ForwardFn fn, ShapeFn shape, ChannelRule rule, OnnxExportFn onnx, TorchScriptFn script) {
  OpSpec s;
  s.kind = kind;
  s.forward = fn;
  s.inferShapes = shape;
  s.zeroCost = true;
  s.channelRule = rule;
  s.onnxExport = onnx;
  s.torchScript = script;
  return s;
}

}  // namespace

// A flattening Flatten or Reshape ([N,C,H,W] -> [N,C*H*W]): feature f is channel f / HW.
// Any other reshaping loses the channel.
std::optional<double> flattenConstant(const ConstantQuery& q) {
  const Value& out = q.graph.value(q.node.outputs[0]);
  const Shape& s = q.graph.value(q.node.inputs[0]).shape;
  if (q.node.inputs.size() != 1 || !flattensChannels(s, out.shape)) return std::nullopt;
  return q.input(0, q.channel / (s[2] * s[3]));
}

void addShapeOps(OpRegistry& r) {
  OpSpec concat = entry(OpKind::Concat, concatForward, concatShape, ChannelRule::Concat, concatToOnnx, concatToScript);
  concat.maxInputs = -1;
  concat.outputReusable = true;
  r.add(concat);
  OpSpec split = entry(OpKind::Split, splitForward, splitShape, ChannelRule::Split, splitToOnnx, splitToScript);
  split.resizeAttrs = splitResizeAttrs;
  r.add(split);
  OpSpec up = entry(OpKind::Upsample, upsampleForward, upsampleShape, ChannelRule::PassThrough, upsampleToOnnx, upsampleToScript);
  up.outputReusable = true;
  up.constantFn = constantPassesThrough;
  r.add(up);
  OpSpec flatten = entry(OpKind::Flatten, flattenForward, flattenShape, ChannelRule::Flatten, flattenToOnnx, flattenToScript);
  flatten.constantFn = flattenConstant;
  r.add(flatten);
  OpSpec dropout = entry(OpKind::Dropout, dropoutForward, sameShapeAsInput, ChannelRule::PassThrough, identityToOnnx, dropoutToScript);
  dropout.constantFn = constantPassesThrough;
  r.add(dropout);
  OpSpec identity = entry(OpKind::Identity, identityForward, sameShapeAsInput, ChannelRule::PassThrough, identityToOnnx, identityToScript);
  identity.constantFn = constantPassesThrough;
  r.add(identity);
  r.addOnnxImport("Concat", concatFromOnnx);
  r.addOnnxImport("Split", splitFromOnnx);
  r.addOnnxImport("Resize", resizeFromOnnx);
  r.addOnnxImport("Upsample", resizeFromOnnx);
  r.addOnnxImport("Flatten", flattenFromOnnx);
  r.addOnnxImport("Identity", aliasFromOnnx);
  r.addOnnxImport("Dropout", aliasFromOnnx);
  r.addOnnxImport("Cast", aliasFromOnnx);
}

}  // namespace prunelab::ops
