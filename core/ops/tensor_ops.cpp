// Tensor reshaping and attention primitives: Reshape (attr shape, or a second input to
// view as), Transpose, MatMul, Softmax; Constant and Slice (from ONNX imports).
// Their channel mapping is not tracked: the dependency analysis pins what they touch
// (e.g. the inner channels of C2PSA attention), except a Reshape that flattens
// [N,C,H,W] to [N,C*H*W], which maps channels as Flatten does. MatMul MACs are not counted, as in
// torchinfo and thop, which count parametric modules only.

#include <ATen/ATen.h>

#include <algorithm>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab::ops {

namespace {

// ONNX Reshape semantics: 0 copies the input's dim, one -1 is inferred.
std::vector<int64_t> resolveShape(const Node& n, const std::vector<int64_t>& in) {
  std::vector<int64_t> out = n.attrs.getInts("shape");
  // Checked products: a file may ask for [2^62, 8] (found by tests/fuzz/fuzz_onnx).
  const int64_t total = checkedNumel(n.name, in);
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0) {
      if (i >= in.size()) throw Error(n.name, "shape 0 at a position the input does not have");
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (infer >= 0) throw Error(n.name, "more than one -1 in the target shape");
      infer = static_cast<int64_t>(i);
    } else if (out[i] < 0) {
      throw Error(n.name, "target shape has a negative dim " + std::to_string(out[i]));
    } else {
      known = checkedMul(n.name, known, out[i]);
    }
  }
  if (infer >= 0) out[infer] = known ? total / known : 0;
  if (checkedNumel(n.name, out) != total) throw Error(n.name, "cannot reshape " + shapeToString(in) + " to " + shapeToString(out));
  return out;
}

// With a second input, the target is that input's shape ("view as"): attention blocks
// fold [B, heads, d, H*W] back to the [B, C, H, W] of their input at any input size.
std::vector<at::Tensor> reshapeForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  if (in.size() == 2) return {in[0].reshape(in[1].sizes())};
  return {in[0].reshape(resolveShape(n, in[0].sizes().vec()))};
}
std::vector<Shape> reshapeShape(const Node& n, const std::vector<Shape>& in) {
  if (in.size() == 2) {
    if (checkedNumel(n.name, in[0]) != checkedNumel(n.name, in[1])) throw Error(n.name, "cannot view " + shapeToString(in[0]) + " as " + shapeToString(in[1]));
    return {in[1]};
  }
  return {resolveShape(n, in.at(0))};
}

std::vector<at::Tensor> transposeForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {in[0].permute(n.attrs.getInts("perm"))};
}
std::vector<Shape> transposeShape(const Node& n, const std::vector<Shape>& in) {
  const auto& perm = n.attrs.getInts("perm");
  const Shape& x = in.at(0);
  if (perm.size() != x.size()) throw Error(n.name, "perm has " + std::to_string(perm.size()) + " dims, input " + shapeToString(x));
  Shape r;
  for (int64_t p : perm) r.push_back(x.at(static_cast<size_t>(p < 0 ? p + int64_t(x.size()) : p)));
  return {r};
}

std::vector<at::Tensor> matmulForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  at::Tensor y = at::matmul(in[0], in[1]);
  if (n.attrs.has("alpha")) y = y * n.attrs.getFloat("alpha");
  return {y};
}
std::vector<Shape> matmulShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& a = in.at(0);
  const Shape& b = in.at(1);
  if (a.size() < 2 || a.size() != b.size() || a.back() != b[b.size() - 2])
    throw Error(n.name, "cannot multiply " + shapeToString(a) + " by " + shapeToString(b));
  Shape r = a;
  r.back() = b.back();
  return {r};
}
std::vector<at::Tensor> softmaxForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::softmax(in[0], n.attrs.getInt("axis", -1))};
}

// A Constant's value lives on the node as the buffer "value", so it moves with the graph's
// tensors (device, checkpoints) and is never trained.
std::vector<at::Tensor> constantForward(const Node& n, const std::vector<at::Tensor>&, const OpContext&) {
  return {n.tensor("value")};
}
std::vector<Shape> constantShape(const Node& n, const std::vector<Shape>&) {
  return {n.tensor("value").sizes().vec()};
}

struct SliceRange {
  int64_t start, end, step;
};
// ONNX Slice: negative starts/ends count from the end; both are clamped to the dim.
SliceRange sliceRange(int64_t start, int64_t end, int64_t step, int64_t dim) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
  return {start, end, step};
}
int64_t sliceLength(const SliceRange& r) {
  if (r.step > 0) return r.end > r.start ? (r.end - r.start + r.step - 1) / r.step : 0;
  return r.start > r.end ? (r.start - r.end - r.step - 1) / -r.step : 0;
}

std::vector<at::Tensor> sliceForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  const auto axes = n.attrs.getInts("axes"), starts = n.attrs.getInts("starts"), ends = n.attrs.getInts("ends");
  const auto steps = n.attrs.getInts("steps", std::vector<int64_t>(axes.size(), 1));
  at::Tensor y = in[0];
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = axes[i] < 0 ? axes[i] + y.dim() : axes[i];
    const SliceRange r = sliceRange(starts[i], ends[i], steps[i], y.size(axis));
    if (r.step > 0) {
      y = y.slice(axis, r.start, r.start + sliceLength(r) * r.step, r.step);
    } else {  // negative steps: flip, then slice forward
      const int64_t len = sliceLength(r);
      y = y.flip(axis).slice(axis, y.size(axis) - 1 - r.start, y.size(axis) - 1 - r.start + len * -r.step, -r.step);
    }
  }
  return {y};
}
std::vector<Shape> sliceShape(const Node& n, const std::vector<Shape>& in) {
  const auto axes = n.attrs.getInts("axes"), starts = n.attrs.getInts("starts"), ends = n.attrs.getInts("ends");
  const auto steps = n.attrs.getInts("steps", std::vector<int64_t>(axes.size(), 1));
  if (starts.size() != axes.size() || ends.size() != axes.size() || steps.size() != axes.size())
    throw Error(n.name, "Slice needs as many starts, ends and steps as axes");
  Shape r = in.at(0);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = axes[i] < 0 ? axes[i] + static_cast<int64_t>(r.size()) : axes[i];
    if (axis < 0 || axis >= static_cast<int64_t>(r.size())) throw Error(n.name, "Slice axis out of range for " + shapeToString(r));
    if (steps[i] == 0) throw Error(n.name, "Slice step 0");
    r[axis] = sliceLength(sliceRange(starts[i], ends[i], steps[i], r[axis]));
  }
  return {r};
}

// --- ONNX forms ------------------------------------------------------------------------------

// A second input is "view as": Reshape to its Shape. A target's leading batch size
// becomes 0 (copy) so the batch stays dynamic.
void reshapeToOnnx(OnnxEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  if (x.size() == 2) {
    e.op("Reshape", {x[0], e.op("Shape", {x[1]}).out()}, e.outputs()[0]);
    return;
  }
  std::vector<int64_t> shape = n.attrs.getInts("shape");
  const Shape& in = e.graph().value(n.inputs[0]).shape;
  if (e.dynamicBatch() && !shape.empty() && !in.empty() && shape[0] > 0 && shape[0] == in[0]) shape[0] = 0;
  e.op("Reshape", {x[0], e.ints(shape, "shape")}, e.outputs()[0]);
}
void transposeToOnnx(OnnxEmitter& e, const Node& n) {
  e.op("Transpose", {e.inputs()[0]}, e.outputs()[0]).attr("perm", n.attrs.getInts("perm"));
}
void matmulToOnnx(OnnxEmitter& e, const Node& n) {
  if (n.attrs.has("alpha"))
    e.op("Mul", {e.op("MatMul", e.inputs()).out(), e.floats({static_cast<float>(n.attrs.getFloat("alpha"))}, "alpha")},
         e.outputs()[0]);
  else
    e.op("MatMul", e.inputs(), e.outputs()[0]);
}
void softmaxToOnnx(OnnxEmitter& e, const Node& n) {
  e.op("Softmax", {e.inputs()[0]}, e.outputs()[0]).attr("axis", n.attrs.getInt("axis", -1));
}
void constantToOnnx(OnnxEmitter& e, const Node& n) {
  e.op("Identity", {e.param("value", n.tensor("value"))}, e.outputs()[0]);
}
void sliceToOnnx(OnnxEmitter& e, const Node& n) {
  const auto axes = n.attrs.getInts("axes");
  e.op("Slice",
       {e.inputs()[0], e.ints(n.attrs.getInts("starts"), "starts"), e.ints(n.attrs.getInts("ends"), "ends"), e.ints(axes, "axes"),
        e.ints(n.attrs.getInts("steps", std::vector<int64_t>(axes.size(), 1)), "steps")},
       e.outputs()[0]);
}

// --- TorchScript forms -------------------------------------------------------------------------

void reshapeToScript(ScriptEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  if (x.size() == 2) {
    e.assign("torch.reshape(" + x[0] + ", " + x[1] + ".size())");
    return;
  }
  std::string l = "[";
  const auto shape = n.attrs.getInts("shape");
  for (size_t i = 0; i < shape.size(); ++i)
    l += (i ? ", " : "") + (shape[i] == 0 ? x[0] + ".size(" + std::to_string(i) + ")" : std::to_string(shape[i]));
  e.assign("torch.reshape(" + x[0] + ", " + l + "])");
}
void transposeToScript(ScriptEmitter& e, const Node& n) {
  e.assign(e.inputs()[0] + ".permute(" + scriptList(n.attrs.getInts("perm")) + ")");
}
void matmulToScript(ScriptEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  e.assign(n.attrs.has("alpha") ? "torch.mul(torch.matmul(" + x[0] + ", " + x[1] + "), " + scriptNum(n.attrs.getFloat("alpha")) + ")"
                                : "torch.matmul(" + x[0] + ", " + x[1] + ")");
}
void softmaxToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.softmax(" + e.inputs()[0] + ", " + std::to_string(n.attrs.getInt("axis", -1)) + ")");
}
void constantToScript(ScriptEmitter& e, const Node& n) { e.assign(e.tensor(n, "value")); }
// Python slicing has ONNX's clamping of starts/ends built in: x[:, :, 0:2:1].
void sliceToScript(ScriptEmitter& e, const Node& n) {
  const auto axes = n.attrs.getInts("axes"), starts = n.attrs.getInts("starts"), ends = n.attrs.getInts("ends");
  const auto steps = n.attrs.getInts("steps", std::vector<int64_t>(axes.size(), 1));
  const Shape& s0 = e.graph().value(n.inputs[0]).shape;
  std::vector<std::string> index(s0.size(), ":");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (steps[i] < 1) throw Error(n.name, "Slice with step " + std::to_string(steps[i]) + " is not exported");
    const int64_t axis = axes[i] < 0 ? axes[i] + static_cast<int64_t>(s0.size()) : axes[i];
    index.at(static_cast<size_t>(axis)) = std::to_string(starts[i]) + ":" + std::to_string(ends[i]) + ":" + std::to_string(steps[i]);
  }
  std::string expr = e.inputs()[0] + "[";
  for (size_t i = 0; i < index.size(); ++i) expr += (i ? ", " : "") + index[i];
  e.assign(expr + "]");
}

// --- ONNX import ---------------------------------------------------------------------------------

// A target that repeats the file's batch becomes "copy the batch" (0).
void reshapeFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  if (n.attrInt("allowzero", 0)) ctx.unsupported(n, "allowzero");
  std::vector<int64_t> shape = n.hasInput(1) ? onnxInts(ctx.constInput(n, 1)) : n.attrInts("shape").value_or(std::vector<int64_t>{});
  const Shape& in = ctx.shapeOf(n.input(0), n);
  if (!shape.empty() && !in.empty() && ctx.fileBatch() > 0 && shape[0] == ctx.fileBatch() && in[0] == ctx.fileBatch()) shape[0] = 0;
  if (!shape.empty() && ctx.dynamicBatch() && !in.empty() && shape[0] == 1 && in[0] == 1) shape[0] = 0;
  ctx.simple(n, OpKind::Reshape, {{"shape", shape}});
}

// Unsqueeze / Squeeze of a graph value: a Reshape to the resulting shape, batch copied.
void squeezeFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  auto axes = ctx.axesOf(n);
  Shape s = squeezedShape(ctx.shapeOf(n.input(0), n), axes, n.opType() == "Unsqueeze", /*first=*/1);
  if (std::find(axes.begin(), axes.end(), 0) == axes.end() && !s.empty()) s[0] = 0;  // batch stays the batch
  ctx.simple(n, OpKind::Reshape, {{"shape", s}});
}

void transposeFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const auto perm = n.attrInts("perm");
  if (!perm) ctx.unsupported(n, "Transpose without perm");
  ctx.simple(n, OpKind::Transpose, {{"perm", *perm}});
}

void softmaxFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  ctx.simple(n, OpKind::Softmax, {{"axis", n.attrInt("axis", ctx.opset() >= 13 ? -1 : 1)}});
}

// Attributes before opset 10, inputs after.
void sliceFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = n.attrInts("starts").value_or(starts);
    ends = n.attrInts("ends").value_or(ends);
    axes = n.attrInts("axes").value_or(axes);
  } else {
    starts = onnxInts(ctx.constInput(n, 1));
    ends = onnxInts(ctx.constInput(n, 2));
    if (n.hasInput(3)) axes = onnxInts(ctx.constInput(n, 3));
    if (n.hasInput(4)) steps = onnxInts(ctx.constInput(n, 4));
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  ctx.simple(n, OpKind::Slice, {{"axes", axes}, {"starts", starts}, {"ends", ends}, {"steps", steps}});
}

OpSpec pinned(OpKind kind, ForwardFn fn, ShapeFn shape, OnnxExportFn onnx, TorchScriptFn script, int inputs = 1) {
  OpSpec s;
  s.kind = kind;
  s.minInputs = s.maxInputs = inputs;
  s.forward = fn;
  s.inferShapes = shape;
  s.zeroCost = true;  // MatMul too: not counted, as torchinfo and thop (parametric modules only)
  s.channelRule = ChannelRule::Pin;
  s.onnxExport = onnx;
  s.torchScript = script;
  return s;
}

// A 2-entry target whose second entry is a number (e.g. [0, 512] from a traced
// x.view(x.size(0), -1)) records the feature count: follow the kept channels. Other
// reshapes are pinned by the dependency analysis, so their counts never change.
void reshapeResizeAttrs(Node& n, const std::vector<int64_t>&, const std::vector<int64_t>& keptOut) {
  if (!n.attrs.has("shape")) return;
  std::vector<int64_t> shape = n.attrs.getInts("shape");
  if (shape.size() != 2 || shape[1] == -1 || keptOut.empty()) return;
  shape[1] = keptOut[0];
  n.attrs.set("shape", shape);
}

}  // namespace

void addTensorOps(OpRegistry& r) {
  // Reshape maps channels only when it flattens [N,C,H,W] -> [N,C*H*W] (ChannelRule::Flatten
  // checks the shapes and pins anything else); so does a removed channel's constant.
  OpSpec reshape = pinned(OpKind::Reshape, reshapeForward, reshapeShape, reshapeToOnnx, reshapeToScript);
  reshape.channelRule = ChannelRule::Flatten;
  reshape.resizeAttrs = reshapeResizeAttrs;
  reshape.maxInputs = 2;
  reshape.constantFn = flattenConstant;
  r.add(reshape);
  r.add(pinned(OpKind::Transpose, transposeForward, transposeShape, transposeToOnnx, transposeToScript));
  OpSpec mm = pinned(OpKind::MatMul, matmulForward, matmulShape, matmulToOnnx, matmulToScript, 2);
  mm.outputReusable = true;
  r.add(mm);
  r.add(pinned(OpKind::Softmax, softmaxForward, sameShapeAsInput, softmaxToOnnx, softmaxToScript));
  r.add(pinned(OpKind::Constant, constantForward, constantShape, constantToOnnx, constantToScript, 0));
  r.add(pinned(OpKind::Slice, sliceForward, sliceShape, sliceToOnnx, sliceToScript));
  // Constant and Shape nodes, and constant subgraphs, are evaluated by the importer
  // (io/onnx_constants); a constant a graph value reads becomes a Constant node.
  r.addOnnxImport("Reshape", reshapeFromOnnx);
  r.addOnnxImport("Unsqueeze", squeezeFromOnnx);
  r.addOnnxImport("Squeeze", squeezeFromOnnx);
  r.addOnnxImport("Transpose", transposeFromOnnx);
  r.addOnnxImport("Softmax", softmaxFromOnnx);
  r.addOnnxImport("Slice", sliceFromOnnx);
}

}  // namespace prunelab::ops
