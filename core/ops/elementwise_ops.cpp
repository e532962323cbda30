// Binary elementwise ops with NumPy broadcasting: Add, Mul, Sub, Div, Pow.
// An operand may be a Constant (a scale, an offset grid); channel ties skip operands
// that broadcast over the channel dim (see DependencyGraph).

#include <ATen/ATen.h>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> addForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::add(in[0], in[1])};
}
std::vector<at::Tensor> mulForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::mul(in[0], in[1])};
}

std::vector<at::Tensor> subForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::sub(in[0], in[1])};
}
std::vector<at::Tensor> divForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::div(in[0], in[1])};
}
std::vector<at::Tensor> powForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::pow(in[0], in[1])};
}

std::vector<Shape> broadcastShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& a = in.at(0);
  const Shape& b = in.at(1);
  Shape r(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < r.size(); ++i) {
    const int64_t da = i < r.size() - a.size() ? 1 : a[i - (r.size() - a.size())];
    const int64_t db = i < r.size() - b.size() ? 1 : b[i - (r.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error(n.name, "cannot broadcast " + shapeToString(a) + " with " + shapeToString(b));
    r[i] = std::max(da, db);
  }
  return {r};
}

OpSpec binary(OpKind kind, ForwardFn fn) {
  OpSpec s;
  s.kind = kind;
  s.minInputs = s.maxInputs = 2;
  s.forward = fn;
  s.inferShapes = broadcastShape;
  s.channelRule = ChannelRule::TieInputs;
  s.outputReusable = true;
  return s;
}

}  // namespace

void addElementwiseOps(std::vector<OpSpec>& table) {
  table.push_back(binary(OpKind::Add, addForward));
  table.push_back(binary(OpKind::Mul, mulForward));
  table.push_back(binary(OpKind::Sub, subForward));
  table.push_back(binary(OpKind::Div, divForward));
  table.push_back(binary(OpKind::Pow, powForward));
}

}  // namespace prunelab::ops
