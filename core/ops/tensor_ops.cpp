// Tensor reshaping and attention primitives: Reshape (attr shape, or a second input to
// view as), Transpose, MatMul, Softmax.
// Their channel mapping is not tracked: the dependency analysis pins what they touch
// (e.g. the inner channels of C2PSA attention). MatMul MACs are not counted, as in
// torchinfo and thop, which count parametric modules only.

#include <ATen/ATen.h>

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

OpSpec pinned(OpKind kind, ForwardFn fn, ShapeFn shape, int inputs = 1) {
  OpSpec s;
  s.kind = kind;
  s.minInputs = s.maxInputs = inputs;
  s.forward = fn;
  s.inferShapes = shape;
  s.channelRule = ChannelRule::Pin;
  return s;
}

}  // namespace

void addTensorOps(std::vector<OpSpec>& table) {
  OpSpec reshape = pinned(OpKind::Reshape, reshapeForward, reshapeShape);
  reshape.maxInputs = 2;
  table.push_back(reshape);
  table.push_back(pinned(OpKind::Transpose, transposeForward, transposeShape));
  OpSpec mm = pinned(OpKind::MatMul, matmulForward, matmulShape, 2);
  mm.outputReusable = true;
  table.push_back(mm);
  table.push_back(pinned(OpKind::Softmax, softmaxForward, sameShapeAsInput));
}

}  // namespace prunelab::ops
