// Conv2d: weight [O, I/groups, kh, kw], optional bias [O].
// Attrs: stride [2], padding [2], dilation [2], groups.

#include <ATen/ATen.h>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
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
  const at::Tensor& weight = n.tensor("weight");
  if (weight.dim() != 4) throw Error(n.name, "weight must be 4-D [O, I/groups, kh, kw], got " + shapeToString(weight.sizes().vec()));
  const auto w = weight.sizes();
  const int64_t groups = n.attrs.getInt("groups", 1);
  if (groups < 1 || w[0] % groups) throw Error(n.name, "groups " + std::to_string(groups) + " does not divide the " +
                                                          std::to_string(w[0]) + " output channels");
  if (x[1] != w[1] * groups)
    throw Error(n.name, "input has " + std::to_string(x[1]) + " channels, weight expects " +
                            std::to_string(w[1] * groups));
  const at::Tensor bias = n.optionalTensor("bias");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != w[0]))
    throw Error(n.name, "bias has shape " + shapeToString(bias.sizes().vec()) + ", expected [" + std::to_string(w[0]) + "]");
  // The one place a Conv's attributes are checked (files, YAML and builders all end here).
  const auto s = windowAttr(n, "stride", {1, 1}, 1);
  const auto p = windowAttr(n, "padding", {0, 0}, 0);
  const auto d = windowAttr(n, "dilation", {1, 1}, 1);
  if (w[2] < 1 || w[3] < 1) throw Error(n.name, "kernel " + shapeToString(weight.sizes().vec()) + " has an empty window");
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

// Depthwise: as many groups as output channels, one input channel each (the weight's in
// dim has size 1). Other grouped convs are pinned by the dependency analysis, never sliced.
ChannelGrouping convGrouping(const Node& n) {
  const int64_t groups = n.attrs.getInt("groups", 1);
  if (groups == 1) return ChannelGrouping::Dense;
  const auto w = n.tensor("weight").sizes();
  return w[1] == 1 && w[0] == groups ? ChannelGrouping::Depthwise : ChannelGrouping::Grouped;
}

// A depthwise conv keeps one group per channel: its groups follow the kept channels.
// Called after slicing, when the weight's out dim no longer equals groups, so the test
// is the in dim alone (grouped convs that are not depthwise are never sliced).
void convResizeAttrs(Node& n, const std::vector<int64_t>&, const std::vector<int64_t>& keptOut) {
  if (n.attrs.getInt("groups", 1) > 1 && n.tensor("weight").size(1) == 1) n.attrs.set("groups", keptOut.at(0));
}

void convToOnnx(OnnxEmitter& e, const Node& n) {
  const at::Tensor w = n.tensor("weight").detach();
  const at::Tensor b = n.optionalTensor("bias");
  const std::string y = e.outputs()[0];
  std::vector<std::string> in{e.inputs()[0], e.param("weight", w)};
  if (b.defined()) in.push_back(e.param("bias", b.detach()));
  const auto p = n.attrs.getInts("padding", {0, 0});
  e.op("Conv", in, y)
      .attr("kernel_shape", std::vector<int64_t>{w.size(2), w.size(3)})
      .attr("strides", n.attrs.getInts("stride", {1, 1}))
      .attr("pads", std::vector<int64_t>{p[0], p[1], p[0], p[1]})
      .attr("dilations", n.attrs.getInts("dilation", {1, 1}))
      .attr("group", n.attrs.getInt("groups", 1));
}

void convToScript(ScriptEmitter& e, const Node& n) {
  e.assign("torch.conv2d(" + e.inputs()[0] + ", " + e.tensor(n, "weight") + ", " + e.optionalTensor(n, "bias") + ", " +
           scriptList(n.attrs.getInts("stride", {1, 1})) + ", " + scriptList(n.attrs.getInts("padding", {0, 0})) + ", " +
           scriptList(n.attrs.getInts("dilation", {1, 1})) + ", " + std::to_string(n.attrs.getInt("groups", 1)) + ")");
}

// Conv (2-D). auto_pad SAME becomes explicit padding when it is symmetric.
void convFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const at::Tensor& w = ctx.constInput(n, 1);
  if (w.dim() != 4) ctx.unsupported(n, "only 2-D convolutions");
  // The weight decides the window; a kernel_shape that says otherwise means the file was
  // edited or written wrong, and other runtimes would refuse or read it differently.
  const std::vector<int64_t> window{w.size(2), w.size(3)};
  if (const auto k = n.attrInts("kernel_shape"); k && *k != window)
    throw Error(ctx.path(), "node '" + n.name() + "': kernel_shape " + scriptList(*k) + " disagrees with its weight's " +
                                scriptList(window) + " window");
  const std::string autoPad = n.attrString("auto_pad", "NOTSET");
  std::vector<int64_t> pads = n.attrInts("pads").value_or(std::vector<int64_t>{0, 0, 0, 0});
  const auto strides = n.attrInts("strides").value_or(std::vector<int64_t>{1, 1});
  const auto dilations = n.attrInts("dilations").value_or(std::vector<int64_t>{1, 1});
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Symmetric only when the total padding is even (odd kernels, stride 1).
    for (int d = 0; d < 2; ++d) {
      const int64_t total = dilations[d] * (w.size(2 + d) - 1);
      if (strides[d] != 1 || total % 2) ctx.unsupported(n, "auto_pad SAME with asymmetric padding");
      pads[d] = pads[d + 2] = total / 2;
    }
  } else if (autoPad != "NOTSET" && autoPad != "VALID") {
    ctx.unsupported(n, "auto_pad " + autoPad);
  }
  if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3]) ctx.unsupported(n, "asymmetric padding");
  std::vector<NamedTensor> t = {{"weight", w.clone(), false}};
  if (n.hasInput(2)) t.push_back({"bias", ctx.constInput(n, 2).clone(), false});
  Attributes a{{"stride", strides}, {"padding", std::vector<int64_t>{pads[0], pads[1]}}, {"dilation", dilations},
               {"groups", n.attrInt("group", 1)}};
  const std::string scope = ctx.scopeFor(n, n.input(1));
  const ValueId x = ctx.valueOf(n.input(0), n.name());
  ctx.setValue(n, 0, ctx.graph().out(ctx.addNode(OpKind::Conv, scope, {x}, std::move(a), std::move(t), 1, scope)));
}

}  // namespace

void addConvOps(OpRegistry& r) {
  OpSpec conv;
  conv.kind = OpKind::Conv;
  conv.forward = convForward;
  conv.inferShapes = convShape;
  conv.macsPerElement = convMacsPerElement;
  conv.channelRule = ChannelRule::Conv;
  conv.outputReusable = true;
  conv.layout = {{"weight", 0, 1}, {"bias", 0, -1}};  // weight [O, I/groups, kh, kw], bias [O]
  conv.grouping = convGrouping;
  conv.resizeAttrs = convResizeAttrs;
  conv.isChannelSource = true;
  conv.onnxExport = convToOnnx;
  conv.torchScript = convToScript;
  r.add(conv);
  r.addOnnxImport("Conv", convFromOnnx);
}

}  // namespace prunelab::ops
