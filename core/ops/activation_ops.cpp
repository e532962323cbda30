// Pointwise activations: shape and channels pass through.

#include <ATen/ATen.h>

#include "ops/op_table.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> reluForward(const Node&, const std::vector<at::Tensor>& in, const OpContext& ctx) {
  return {ctx.mayReuseInput ? at::relu_(const_cast<at::Tensor&>(in[0])) : at::relu(in[0])};
}
std::vector<at::Tensor> relu6Forward(const Node&, const std::vector<at::Tensor>& in, const OpContext& ctx) {
  if (ctx.mayReuseInput) return {at::hardtanh_(const_cast<at::Tensor&>(in[0]), 0.0, 6.0)};
  return {at::hardtanh(in[0], 0.0, 6.0)};
}
std::vector<at::Tensor> siluForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::silu(in[0])};
}
std::vector<at::Tensor> leakyReluForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::leaky_relu(in[0], n.attrs.getFloat("negative_slope", 0.01))};
}
std::vector<at::Tensor> sigmoidForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::sigmoid(in[0])};
}
std::vector<at::Tensor> hardswishForward(const Node&, const std::vector<at::Tensor>& in, const OpContext&) {
  return {at::hardswish(in[0])};
}

OpSpec activation(OpKind kind, ForwardFn fn, bool inPlace, bool outputReusable) {
  OpSpec s;
  s.kind = kind;
  s.forward = fn;
  s.inferShapes = sameShapeAsInput;
  s.channelRule = ChannelRule::PassThrough;
  s.canRunInPlace = inPlace;
  s.outputReusable = outputReusable;
  return s;
}

}  // namespace

void addActivationOps(std::vector<OpSpec>& table) {
  // In-place variants are used only where autograd allows it (the executor checks that
  // the producer's output is reusable). relu/hardtanh/sigmoid save their *output* for
  // backward, so their output must not be overwritten downstream (outputReusable=false).
  // silu/leaky_relu/hardswish backward need their *input*: computed in place they would
  // destroy it under autograd, so they run out of place; their fresh output is reusable.
  table.push_back(activation(OpKind::ReLU, reluForward, true, false));
  table.push_back(activation(OpKind::ReLU6, relu6Forward, true, false));
  table.push_back(activation(OpKind::SiLU, siluForward, false, true));
  table.push_back(activation(OpKind::LeakyReLU, leakyReluForward, false, true));
  table.push_back(activation(OpKind::Sigmoid, sigmoidForward, false, false));
  table.push_back(activation(OpKind::Hardswish, hardswishForward, false, true));
}

}  // namespace prunelab::ops
