// Binary elementwise ops with NumPy broadcasting: Add, Mul, Sub, Div, Pow.
// An operand may be a Constant (a scale, an offset grid); channel ties skip operands
// that broadcast over the channel dim (see DependencyGraph).

#include <ATen/ATen.h>

#include "ops/onnx_emitter.h"
#include "ops/onnx_import_context.h"
#include "ops/torchscript_emitter.h"
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

// The sum of constant inputs is constant. (Mul, Sub, Div, Pow are not folded: surgery
// folds sums into biases only.)
std::optional<double> addConstant(const ConstantQuery& q) {
  double sum = 0;
  for (size_t i = 0; i < q.node.inputs.size(); ++i) {
    auto x = q.input(i, q.channel);
    if (!x) return std::nullopt;
    sum += *x;
  }
  return sum;
}

// ONNX and TorchScript spell each op the same way: Add / torch.add(a, b).
template <const char* OnnxType, const char* TorchFn>
void binaryToOnnx(OnnxEmitter& e, const Node&) {
  e.op(OnnxType, e.inputs(), e.outputs()[0]);
}
template <const char* OnnxType, const char* TorchFn>
void binaryToScript(ScriptEmitter& e, const Node&) {
  e.assign(std::string(TorchFn) + "(" + e.inputs()[0] + ", " + e.inputs()[1] + ")");
}

constexpr char kAdd[] = "Add", kMul[] = "Mul", kSub[] = "Sub", kDiv[] = "Div", kPow[] = "Pow";
constexpr char kTorchAdd[] = "torch.add", kTorchMul[] = "torch.mul", kTorchSub[] = "torch.sub",
               kTorchDiv[] = "torch.div", kTorchPow[] = "torch.pow";

// MatMul by a weight followed by Add of a bias: the bias joins the Linear the MatMul became.
void binaryFromOnnx(OnnxImportContext& ctx, const OnnxNodeView& n) {
  const std::string& op = n.opType();
  if (op == "Add") {
    for (int k = 0; k < 2; ++k) {
      const OnnxRef& a = ctx.ref(n.input(k), n.name());
      const OnnxRef& b = ctx.ref(n.input(1 - k), n.name());
      if (a.isConst() || !b.isConst() || b.constant.dim() != 1) continue;
      const Value& v = ctx.graph().value(a.id);
      if (v.producer < 0 || v.consumers.size() != 0) continue;  // consumers: IR nodes so far
      Node& lin = ctx.graph().node(v.producer);
      if (lin.op != OpKind::Linear || lin.hasTensor("bias") || lin.tensor("weight").size(0) != b.constant.size(0) ||
          ctx.readers(n.input(k)) != 1)  // the product is read by this Add alone
        continue;
      lin.tensors.push_back({"bias", b.constant.to(at::kFloat).clone(), false});
      return ctx.setValue(n, 0, a.id);
    }
  }
  const OpKind kind = op == "Add" ? OpKind::Add : op == "Sub" ? OpKind::Sub : op == "Mul" ? OpKind::Mul
                    : op == "Div" ? OpKind::Div : OpKind::Pow;
  ctx.simple(n, kind, {}, 2);
}

template <const char* OnnxType, const char* TorchFn>
OpSpec binary(OpKind kind, ForwardFn fn) {
  OpSpec s;
  s.kind = kind;
  s.minInputs = s.maxInputs = 2;
  s.forward = fn;
  s.inferShapes = broadcastShape;
  s.zeroCost = true;
  s.channelRule = ChannelRule::TieInputs;
  s.outputReusable = true;
  s.isElementwise = true;
  s.onnxExport = binaryToOnnx<OnnxType, TorchFn>;
  s.torchScript = binaryToScript<OnnxType, TorchFn>;
  return s;
}

}  // namespace

void addElementwiseOps(OpRegistry& r) {
  OpSpec add = binary<kAdd, kTorchAdd>(OpKind::Add, addForward);
  add.constantFn = addConstant;
  r.add(add);
  r.add(binary<kMul, kTorchMul>(OpKind::Mul, mulForward));
  r.add(binary<kSub, kTorchSub>(OpKind::Sub, subForward));
  r.add(binary<kDiv, kTorchDiv>(OpKind::Div, divForward));
  r.add(binary<kPow, kTorchPow>(OpKind::Pow, powForward));
  for (const char* type : {kAdd, kMul, kSub, kDiv, kPow}) r.addOnnxImport(type, binaryFromOnnx);
}

}  // namespace prunelab::ops
