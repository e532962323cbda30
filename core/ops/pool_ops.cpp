// Pooling. Attrs: kernel [2], stride [2] (default = kernel), padding [2], dilation [2]
// (MaxPool), ceil_mode, count_include_pad (AvgPool).

#include <ATen/ATen.h>

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
  const auto k = n.attrs.getInts("kernel");
  const auto s = strideOf(n);
  const auto p = n.attrs.getInts("padding", {0, 0});
  const auto d = n.attrs.getInts("dilation", {1, 1});
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

OpSpec pool(OpKind kind, ForwardFn fn, ShapeFn shape) {
  OpSpec s;
  s.kind = kind;
  s.forward = fn;
  s.inferShapes = shape;
  s.channelRule = ChannelRule::PassThrough;
  s.outputReusable = kind != OpKind::MaxPool;  // max_pool2d saves indices, not output; keep it simple
  return s;
}

}  // namespace

void addPoolOps(std::vector<OpSpec>& table) {
  table.push_back(pool(OpKind::MaxPool, maxPoolForward, poolShape));
  table.push_back(pool(OpKind::AvgPool, avgPoolForward, poolShape));
  table.push_back(pool(OpKind::GlobalAvgPool, globalAvgPoolForward, globalPoolShape));
}

}  // namespace prunelab::ops
