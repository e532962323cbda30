// BatchNorm2d (and 1d on N x C inputs): weight, bias [C]; buffers running_mean,
// running_var [C] and num_batches_tracked []. Attrs: eps, momentum.

#include <ATen/ATen.h>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> batchNormForward(const Node& n, const std::vector<at::Tensor>& in,
                                         const OpContext& ctx) {
  if (ctx.training) {
    // As torch.nn.BatchNorm: count the batches seen (state_dict parity).
    at::NoGradGuard noGrad;
    const_cast<Node&>(n).tensor("num_batches_tracked").add_(1);
  }
  return {at::batch_norm(in[0], n.optionalTensor("weight"), n.optionalTensor("bias"), n.tensor("running_mean"),
                         n.tensor("running_var"), ctx.training, n.attrs.getFloat("momentum", 0.1),
                         n.attrs.getFloat("eps", 1e-5), /*cudnn_enabled=*/true)};
}

std::vector<Shape> batchNormShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  if (x.size() < 2) throw Error(n.name, "expects N x C x ... input, got " + shapeToString(x));
  const int64_t c = n.tensor("running_mean").numel();
  if (x[1] != c)
    throw Error(n.name, "input has " + std::to_string(x[1]) + " channels, BatchNorm has " + std::to_string(c));
  return {x};
}

// torchinfo: the parameter count per sample. FoldedBn: one multiply-add per output
// element, carried by gamma (C elements x positions).
int64_t batchNormMacsPerElement(const Node&, const NamedTensor& t, const std::vector<Shape>&,
                                const std::vector<Shape>& out, MacsConvention c) {
  if (t.isBuffer) return 0;
  if (c == MacsConvention::TorchInfo) return 1;
  if (t.name != "weight") return 0;
  int64_t positions = 1;
  for (size_t d = 2; d < out.at(0).size(); ++d) positions *= out[0][d];
  return positions;
}

std::vector<TensorChannelDims> batchNormChannelDims(const Node& n) {
  std::vector<TensorChannelDims> r;
  for (const auto& t : n.tensors)
    if (t.tensor.dim() == 1) r.push_back({t.name, 0, -1});  // not num_batches_tracked (a scalar)
  return r;
}

}  // namespace

void addNormOps(std::vector<OpSpec>& table) {
  OpSpec bn;
  bn.kind = OpKind::BatchNorm;
  bn.forward = batchNormForward;
  bn.inferShapes = batchNormShape;
  bn.macsPerElement = batchNormMacsPerElement;
  bn.channelRule = ChannelRule::PassThrough;
  bn.outputReusable = true;  // batch_norm backward needs its input, not its output
  bn.channelDims = batchNormChannelDims;
  table.push_back(bn);
}

}  // namespace prunelab::ops
