// Conv2d: weight [O, I/groups, kh, kw], optional bias [O].
// Attrs: stride [2], padding [2], dilation [2], groups.

#include <ATen/ATen.h>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

// ATen sends small batch-1 convolutions (3x3 or smaller kernels, input under 20480
// elements, groups == 1) to its "slow" im2col + BLAS path, which with this build's
// reference BLAS is several times slower than oneDNN. Pruning shrinks inputs below that
// threshold, so a pruned model could get *slower* at batch 1. For inference on CPU
// float tensors we call oneDNN directly; training keeps at::conv2d (and its backward).
bool useOneDnn(const at::Tensor& x, const at::Tensor& w) {
  return at::hasMKLDNN() && !at::GradMode::is_enabled() && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
         w.scalar_type() == at::kFloat && x.dim() == 4 && x.size(0) == 1;
}

std::vector<at::Tensor> convForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  const at::Tensor& w = n.tensor("weight");
  const auto stride = n.attrs.getInts("stride", {1, 1});
  const auto padding = n.attrs.getInts("padding", {0, 0});
  const auto dilation = n.attrs.getInts("dilation", {1, 1});
  const int64_t groups = n.attrs.getInt("groups", 1);
  if (useOneDnn(in[0], w))
    return {at::mkldnn_convolution(in[0].contiguous(), w, n.optionalTensor("bias"), padding, stride, dilation, groups)};
  return {at::conv2d(in[0], w, n.optionalTensor("bias"), stride, padding, dilation, groups)};
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

// Every weight element is used once per output position; so is every bias element.
int64_t convMacsPerElement(const Node&, const NamedTensor& t, const std::vector<Shape>&, const std::vector<Shape>& out,
                           MacsConvention) {
  const int64_t positions = out.at(0)[2] * out.at(0)[3];
  return t.name == "weight" || t.name == "bias" ? positions : 0;
}

bool isDepthwise(const Node& n) {
  const int64_t groups = n.attrs.getInt("groups", 1);
  const auto w = n.tensor("weight").sizes();
  return groups > 1 && w[1] == 1 && w[0] == groups;
}

// groups == 1: out channels index dim 0, in channels dim 1. Depthwise: channel c of the
// input is channel c of the output, so only dim 0 is channel-indexed. Other grouped
// convs are pinned by the dependency analysis and never sliced.
std::vector<TensorChannelDims> convChannelDims(const Node& n) {
  const int64_t groups = n.attrs.getInt("groups", 1);
  std::vector<TensorChannelDims> r;
  if (groups == 1) r.push_back({"weight", 0, 1});
  else if (isDepthwise(n)) r.push_back({"weight", 0, -1});
  if (n.hasTensor("bias") && (groups == 1 || isDepthwise(n))) r.push_back({"bias", 0, -1});
  return r;
}

void convResizeAttrs(Node& n, const std::vector<int64_t>&, const std::vector<int64_t>& keptOut) {
  if (n.attrs.getInt("groups", 1) > 1 && n.tensor("weight").size(1) == 1) n.attrs.set("groups", keptOut.at(0));
}

}  // namespace

void addConvOps(std::vector<OpSpec>& table) {
  OpSpec conv;
  conv.kind = OpKind::Conv;
  conv.forward = convForward;
  conv.inferShapes = convShape;
  conv.macsPerElement = convMacsPerElement;
  conv.channelRule = ChannelRule::Conv;
  conv.outputReusable = true;
  conv.channelDims = convChannelDims;
  conv.resizeAttrs = convResizeAttrs;
  table.push_back(conv);
}

}  // namespace prunelab::ops
