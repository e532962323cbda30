// Data movement: Concat, Split, Upsample (nearest), Flatten, Dropout, Identity.

#include <ATen/ATen.h>

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
  return {{x[0], x[1], static_cast<int64_t>(x[2] * scale), static_cast<int64_t>(x[3] * scale)}};
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

OpSpec entry(OpKind kind, ForwardFn fn, ShapeFn shape, ChannelRule rule) {
  OpSpec s;
  s.kind = kind;
  s.forward = fn;
  s.inferShapes = shape;
  s.channelRule = rule;
  return s;
}

}  // namespace

void addShapeOps(std::vector<OpSpec>& table) {
  OpSpec concat = entry(OpKind::Concat, concatForward, concatShape, ChannelRule::Concat);
  concat.maxInputs = -1;
  concat.outputReusable = true;
  table.push_back(concat);
  OpSpec split = entry(OpKind::Split, splitForward, splitShape, ChannelRule::Split);
  split.resizeAttrs = splitResizeAttrs;
  table.push_back(split);
  OpSpec up = entry(OpKind::Upsample, upsampleForward, upsampleShape, ChannelRule::PassThrough);
  up.outputReusable = true;
  table.push_back(up);
  table.push_back(entry(OpKind::Flatten, flattenForward, flattenShape, ChannelRule::Flatten));
  table.push_back(entry(OpKind::Dropout, dropoutForward, sameShapeAsInput, ChannelRule::PassThrough));
  table.push_back(entry(OpKind::Identity, identityForward, sameShapeAsInput, ChannelRule::PassThrough));
}

}  // namespace prunelab::ops
