// BatchNorm2d (and 1d on N x C inputs): weight, bias [C]; buffers running_mean,
// running_var [C] and num_batches_tracked []. Attrs: eps, momentum.

#include <ATen/ATen.h>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

// SyncBatchNorm's training forward: the statistics of the whole global batch. Sums and
// sums of squares are reduced in float64 (E[x^2] - E[x]^2 loses digits in float32),
// through ctx.crossReplicaSum, whose backward sums the statistics' gradients likewise,
// so autograd gives every rank the gradient of the global batch.
at::Tensor syncBatchNormTrain(const Node& n, const at::Tensor& x, const CrossReplicaSum& sum) {
  const int64_t c = x.size(1);
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const at::Tensor xd = x.to(at::kDouble);
  const double count = static_cast<double>(x.numel() / std::max<int64_t>(c, 1));
  const at::Tensor local = at::cat({xd.sum(dims), (xd * xd).sum(dims), at::full({1}, count, xd.options())});
  const at::Tensor global = sum(local);
  const at::Tensor total = global.narrow(0, 2 * c, 1);
  const at::Tensor mean = global.narrow(0, 0, c) / total;
  const at::Tensor var = (global.narrow(0, c, c) / total - mean * mean).clamp_min(0.0);
  const double eps = n.attrs.getFloat("eps", 1e-5), momentum = n.attrs.getFloat("momentum", 0.1);
  {
    at::NoGradGuard noGrad;  // tensor arithmetic only: no host sync per layer on a GPU
    at::Tensor rm = n.tensor("running_mean"), rv = n.tensor("running_var");
    const at::Tensor unbiased = var * total / (total - 1).clamp_min(1.0);
    rm.mul_(1 - momentum).add_(mean.to(rm.scalar_type()), momentum);
    rv.mul_(1 - momentum).add_(unbiased.to(rv.scalar_type()), momentum);
  }
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = c;
  const at::Tensor invStd = (var + eps).rsqrt().to(x.scalar_type()).view(shape);
  at::Tensor y = (x - mean.to(x.scalar_type()).view(shape)) * invStd;
  if (n.hasTensor("weight")) y = y * n.tensor("weight").view(shape);
  if (n.hasTensor("bias")) y = y + n.tensor("bias").view(shape);
  return y;
}

std::vector<at::Tensor> batchNormForward(const Node& n, const std::vector<at::Tensor>& in,
                                         const OpContext& ctx) {
  const bool batchStats = ctx.training && !ctx.frozenBatchNorm;
  if (batchStats) {
    // As torch.nn.BatchNorm: count the batches seen (state_dict parity).
    at::NoGradGuard noGrad;
    const_cast<Node&>(n).tensor("num_batches_tracked").add_(1);
  }
  if (batchStats && ctx.crossReplicaSum) return {syncBatchNormTrain(n, in[0], *ctx.crossReplicaSum)};
  return {at::batch_norm(in[0], n.optionalTensor("weight"), n.optionalTensor("bias"), n.tensor("running_mean"),
                         n.tensor("running_var"), batchStats, n.attrs.getFloat("momentum", 0.1),
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

// A removed channel whose gamma is ~0 outputs beta: the constant surgery folds forward.
std::optional<double> batchNormConstant(const ConstantQuery& q) {
  if (!q.node.hasTensor("bias")) return 0.0;
  return q.node.tensor("bias")[q.channel].item<double>();
}

// Folded into the Conv before it when the exporter folds BN (then never called).
void batchNormToOnnx(OnnxEmitter& e, const Node& n) {
  const int64_t c = n.tensor("running_mean").size(0);
  const at::Tensor w = n.hasTensor("weight") ? n.tensor("weight") : at::ones({c});
  const at::Tensor b = n.hasTensor("bias") ? n.tensor("bias") : at::zeros({c});
  e.op("BatchNormalization", {e.inputs()[0], e.param("weight", w), e.param("bias", b),
                              e.param("running_mean", n.tensor("running_mean")), e.param("running_var", n.tensor("running_var"))},
       e.outputs()[0])
      .attr("epsilon", n.attrs.getFloat("eps", 1e-5))
      .attr("momentum", 1.0 - n.attrs.getFloat("momentum", 0.1));  // ONNX weighs the old value
}

// Follows self.training, as nn.BatchNorm2d: batch statistics in train mode.
void batchNormToScript(ScriptEmitter& e, const Node& n) {
  e.tensor(n, "running_mean");
  e.assign("torch.batch_norm(" + e.inputs()[0] + ", " + e.optionalTensor(n, "weight") + ", " + e.optionalTensor(n, "bias") +
           ", " + e.tensor(n, "running_mean") + ", " + e.tensor(n, "running_var") + ", self.training, " +
           scriptNum(n.attrs.getFloat("momentum", 0.1)) + ", " + scriptNum(n.attrs.getFloat("eps", 1e-5)) + ", True)");
}

// Inference and training forms (the training form's extra outputs must be unused).
void batchNormFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  for (int i = 1; i < n.outputCount(); ++i)
    if (!n.output(i).empty()) ctx.mustBeUnused(n.output(i));
  // ONNX momentum weighs the old running value (0.9); PyTorch's weighs the new one (0.1).
  const double momentum = 1.0 - n.attrFloat("momentum", 0.9);
  std::vector<NamedTensor> t = {{"weight", ctx.constInput(n, 1).clone(), false},
                                {"bias", ctx.constInput(n, 2).clone(), false},
                                {"running_mean", ctx.constInput(n, 3).clone(), true},
                                {"running_var", ctx.constInput(n, 4).clone(), true},
                                {"num_batches_tracked", at::zeros({}, at::kLong), true}};
  const std::string scope = ctx.scopeFor(n, n.input(1));
  const ValueId x = ctx.valueOf(n.input(0), n.name());
  ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(OpKind::BatchNorm, scope, {x}, {{"eps", n.attrFloat("epsilon", 1e-5)}, {"momentum", momentum}},
                                                 std::move(t), 1, scope)));
}

}  // namespace

void addNormOps(OpRegistry& r) {
  OpSpec bn;
  bn.kind = OpKind::BatchNorm;
  bn.forward = batchNormForward;
  bn.inferShapes = batchNormShape;
  bn.macsPerElement = batchNormMacsPerElement;
  bn.channelRule = ChannelRule::PassThrough;
  bn.outputReusable = true;  // batch_norm backward needs its input, not its output
  // Every [C] tensor; num_batches_tracked (a scalar) has no channel dim.
  bn.layout = {{"weight", 0, -1}, {"bias", 0, -1}, {"running_mean", 0, -1}, {"running_var", 0, -1}};
  bn.normScale = "weight";  // gamma
  bn.normShift = "bias";    // beta
  bn.constantFn = batchNormConstant;
  bn.onnxExport = batchNormToOnnx;
  bn.torchScript = batchNormToScript;
  r.add(bn);
  r.addOnnxImport("BatchNormalization", batchNormFromOnnx);
}

}  // namespace prunelab::ops
