// Linear: weight [O, I], optional bias [O]; applies to the last dimension.

#include <ATen/ATen.h>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> linearForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::linear(in[0], n.tensor("weight"), n.optionalTensor("bias"))};
}

std::vector<Shape> linearShape(const Node& n, const std::vector<Shape>& in) {
  Shape x = in.at(0);
  const auto w = n.tensor("weight").sizes();
  if (x.empty() || x.back() != w[1])
    throw Error(n.name, "input " + shapeToString(x) + " has " + std::to_string(x.empty() ? 0 : x.back()) +
                            " features, weight expects " + std::to_string(w[1]));
  x.back() = w[0];
  return {x};
}

// Weights and bias once per row of the input (the dims between batch and features).
int64_t linearMacsPerElement(const Node&, const NamedTensor& t, const std::vector<Shape>&, const std::vector<Shape>& out,
                             MacsConvention) {
  int64_t rows = 1;
  for (size_t d = 1; d + 1 < out.at(0).size(); ++d) rows *= out[0][d];
  return t.name == "weight" || t.name == "bias" ? rows : 0;
}

std::vector<TensorChannelDims> linearChannelDims(const Node& n) {
  std::vector<TensorChannelDims> r = {{"weight", 0, 1}};
  if (n.hasTensor("bias")) r.push_back({"bias", 0, -1});
  return r;
}

}  // namespace

void addLinearOps(std::vector<OpSpec>& table) {
  OpSpec s;
  s.kind = OpKind::Linear;
  s.forward = linearForward;
  s.inferShapes = linearShape;
  s.macsPerElement = linearMacsPerElement;
  s.channelRule = ChannelRule::Linear;
  s.outputReusable = true;
  s.channelDims = linearChannelDims;
  table.push_back(s);
}

}  // namespace prunelab::ops
