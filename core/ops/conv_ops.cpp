// Conv2d: weight [O, I/groups, kh, kw], optional bias [O].
// Attrs: stride [2], padding [2], dilation [2], groups.

#include <ATen/ATen.h>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> convForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::conv2d(in[0], n.tensor("weight"), n.optionalTensor("bias"), n.attrs.getInts("stride", {1, 1}),
                     n.attrs.getInts("padding", {0, 0}), n.attrs.getInts("dilation", {1, 1}),
                     n.attrs.getInt("groups", 1))};
}

int64_t convOutSize(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

std::vector<Shape> convShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  expectRank(n, x, 4);
  const auto w = n.tensor("weight").sizes();
  const int64_t groups = n.attrs.getInt("groups", 1);
  if (x[1] != w[1] * groups)
    throw Error(n.name, "input has " + std::to_string(x[1]) + " channels, weight expects " +
                            std::to_string(w[1] * groups));
  const auto s = n.attrs.getInts("stride", {1, 1});
  const auto p = n.attrs.getInts("padding", {0, 0});
  const auto d = n.attrs.getInts("dilation", {1, 1});
  const int64_t h = convOutSize(x[2], w[2], s[0], p[0], d[0]);
  const int64_t wd = convOutSize(x[3], w[3], s[1], p[1], d[1]);
  if (h <= 0 || wd <= 0) throw Error(n.name, "input " + shapeToString(x) + " is too small for the kernel");
  return {{x[0], w[0], h, wd}};
}

// Multiply-accumulates per output position for each weight element, plus one add per
// output element for the bias (the convention of torchinfo's "Mult-Adds").
int64_t convMacs(const Node& n, const std::vector<Shape>&, const std::vector<Shape>& out) {
  const Shape& y = out.at(0);
  const int64_t positions = y[2] * y[3];
  int64_t perPosition = n.tensor("weight").numel();
  if (auto b = n.optionalTensor("bias"); b.defined()) perPosition += b.numel();
  return perPosition * positions;
}

}  // namespace

void addConvOps(std::vector<OpSpec>& table) {
  OpSpec conv;
  conv.kind = OpKind::Conv;
  conv.forward = convForward;
  conv.inferShapes = convShape;
  conv.macs = convMacs;
  conv.channelRule = ChannelRule::Conv;
  conv.outputReusable = true;
  table.push_back(conv);
}

}  // namespace prunelab::ops
