// Tensor reshaping and attention primitives: Reshape (attr shape, or a second input to
// view as), Transpose, MatMul, Softmax; Constant and Slice (from ONNX imports).
// Their channel mapping is not tracked: the dependency analysis pins what they touch
// (e.g. the inner channels of C2PSA attention), except a Reshape that flattens
// [N,C,H,W] to [N,C*H*W], which maps channels as Flatten does. MatMul MACs are not counted, as in
// torchinfo and thop, which count parametric modules only.

#include <ATen/ATen.h>

#include <algorithm>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

// ONNX Reshape semantics: 0 copies the input's dim, one -1 is inferred.
std::vector<int64_t> resolveShape(const Node& n, const std::vector<int64_t>& in) {
  std::vector<int64_t> out = n.attrs.getInts("shape");
  int64_t known = 1, total = 1, infer = -1;
  for (int64_t d : in) total *= d;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0) {
      if (i >= in.size()) throw Error(n.name, "shape 0 at a position the input does not have");
      out[i] = in[i];
    }
    if (out[i] == -1) {
      if (infer >= 0) throw Error(n.name, "more than one -1 in the target shape");
      infer = static_cast<int64_t>(i);
    } else {
      known *= out[i];
    }
  }
  if (infer >= 0) out[infer] = known ? total / known : 0;
  int64_t product = 1;
  for (int64_t d : out) product *= d;
  if (product != total) throw Error(n.name, "cannot reshape " + shapeToString(in) + " to " + shapeToString(out));
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
    int64_t a = 1, b = 1;
    for (int64_t d : in[0]) a *= d;
    for (int64_t d : in[1]) b *= d;
    if (a != b) throw Error(n.name, "cannot view " + shapeToString(in[0]) + " as " + shapeToString(in[1]));
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

OpSpec pinned(OpKind kind, ForwardFn fn, ShapeFn shape, int inputs = 1) {
  OpSpec s;
  s.kind = kind;
  s.minInputs = s.maxInputs = inputs;
  s.forward = fn;
  s.inferShapes = shape;
  s.channelRule = ChannelRule::Pin;
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

void addTensorOps(std::vector<OpSpec>& table) {
  // Reshape maps channels only when it flattens [N,C,H,W] -> [N,C*H*W] (ChannelRule::Flatten
  // checks the shapes and pins anything else).
  OpSpec reshape = pinned(OpKind::Reshape, reshapeForward, reshapeShape);
  reshape.channelRule = ChannelRule::Flatten;
  reshape.resizeAttrs = reshapeResizeAttrs;
  reshape.maxInputs = 2;
  table.push_back(reshape);
  table.push_back(pinned(OpKind::Transpose, transposeForward, transposeShape));
  OpSpec mm = pinned(OpKind::MatMul, matmulForward, matmulShape, 2);
  mm.outputReusable = true;
  table.push_back(mm);
  table.push_back(pinned(OpKind::Softmax, softmaxForward, sameShapeAsInput));
  table.push_back(pinned(OpKind::Constant, constantForward, constantShape, 0));
  table.push_back(pinned(OpKind::Slice, sliceForward, sliceShape));
}

}  // namespace prunelab::ops
