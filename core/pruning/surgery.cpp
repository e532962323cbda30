#include "pruning/surgery.h"
#include "pruning/plan_log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

namespace {

bool hasPadding(const Node& n) {
  for (int64_t p : n.attrs.getInts("padding", {0, 0}))
    if (p != 0) return true;
  return false;
}

// The constant a removed channel carries at `value` if its BN's gamma is ~0 (so the BN
// outputs beta), followed through the ops that keep it one constant over the whole map:
// each op says how (OpSpec::constantFn - activations map it, pooling and data movement pass
// it on, a flattening Flatten/Reshape moves it to a feature, a padded average pool that
// counts the padding ends the search). Conv, Linear, Concat/Split (offsets), Mul: no fold.
std::optional<double> constantOf(const Graph& g, ValueId value, int64_t c, int depth = 0) {
  const Value& v = g.value(value);
  if (v.producer < 0 || depth > 64) return std::nullopt;
  const Node& n = g.node(v.producer);
  const ConstantFn fn = opSpec(n.op).constantFn;
  if (!fn) return std::nullopt;
  return fn(ConstantQuery{g, n, c, [&](size_t i, int64_t channel) { return constantOf(g, n.inputs.at(i), channel, depth + 1); }});
}

// Adds `delta[o]` to the output of `consumer` (a Conv or Linear): into its bias, or
// into the running mean of a BN that alone reads it (BN(y + d) == BN'(y) with mean - d).
bool addToOutput(Graph& g, const Node& consumer, const at::Tensor& delta) {
  Node& n = g.node(consumer.id);
  if (n.hasTensor("bias")) {
    n.tensor("bias").add_(delta);
    return true;
  }
  const Value& out = g.value(n.outputs[0]);
  if (out.consumers.size() == 1) {
    Node& next = g.node(out.consumers[0]);
    // BatchNorm by kind, not the channel-norm trait: the offset goes into its running
    // mean, which only a normalisation by running statistics has.
    if (next.op == OpKind::BatchNorm) {
      next.tensor("running_mean").sub_(delta);
      return true;
    }
  }
  return false;
}

// Why a removed constant cannot be folded exactly into `n` (a channel source - Conv or
// Linear - reading a pruned value), or "" when it can. A zero-padded conv sees fewer taps
// of the constant at the image border than inside, so its contribution is not one number
// per output channel there: a bias cannot carry it. (Linear has neither attribute.)
std::string foldObstacle(const Node& n) {
  if (channelGrouping(n) != ChannelGrouping::Dense) return "grouped convolution";
  if (hasPadding(n)) return "zero padding (border pixels see fewer taps)";
  return "";
}

void foldRemovedConstants(const DependencyGraph& deps, const std::vector<std::vector<int64_t>>& kept, Graph& out,
                          BetaFoldReport& report) {
  const Graph& src = deps.graph();
  at::NoGradGuard noGrad;
  for (const Node& n : src.nodes()) {
    if (n.inputs.empty() || !opSpec(n.op).isChannelSource) continue;
    const ValueId in = n.inputs[0];
    const int64_t total = deps.channelCount(in);
    if (static_cast<int64_t>(kept[in].size()) == total) continue;
    std::vector<bool> isKept(static_cast<size_t>(total), false);
    for (int64_t c : kept[in]) isKept[c] = true;
    // The weight as [O, I, taps...], whatever the op stores (OpSpec::layout).
    const at::Tensor w = toOutInLayout(n.op, "weight", n.tensor("weight").detach());
    at::Tensor delta = at::zeros({w.size(0)}, w.options());
    std::string why = foldObstacle(n);
    int64_t constants = 0;
    for (int64_t c = 0; c < total; ++c) {
      if (isKept[c]) continue;
      // Linear after Flatten: feature c is channel c / HW of the flattened map.
      const auto k = constantOf(src, in, c);
      if (!k || *k == 0.0) continue;
      ++constants;
      // A grouped weight's in dim indexes channels within a group, not c: nothing to fold.
      if (!why.empty()) continue;
      // Input channel c reaches output o through every tap of W[o, c].
      const at::Tensor column = w.select(1, c);
      if (column.dim() == 1) {
        delta.add_(column, *k);
      } else {
        std::vector<int64_t> taps;
        for (int64_t d = 1; d < column.dim(); ++d) taps.push_back(d);
        delta.add_(column.sum(taps), *k);
      }
    }
    if (constants == 0) continue;
    if (why.empty() && !addToOutput(out, out.node(n.id), delta)) why = "no bias and no BatchNorm of its own after it";
    if (why.empty()) report.folded.push_back(n.name);
    else report.skipped.push_back({n.name, why});
  }
}

}  // namespace

SurgeryResult applySurgery(const DependencyGraph& deps, const PrunePlan& plan, const SurgeryOptions& options) {
  validatePlan(deps, plan);
  const Graph& src = deps.graph();
  const auto kept = deps.keptChannels(plan.removed);

  SurgeryResult result;
  Graph& out = result.graph;
  out = src.share();  // the structure; every tensor gets a private copy below (sliced or cloned)
  out.renewStructureId();  // channel counts change
  at::NoGradGuard noGrad;
  if (options.foldBeta) {
    // Folding writes into biases/running means: give those nodes private copies first.
    for (Node& n : out.nodes())
      for (NamedTensor& t : n.tensors) t.tensor = t.tensor.detach().clone();
    foldRemovedConstants(deps, kept, out, result.betaFold);
  }

  for (Node& n : out.nodes()) {
    const OpSpec& spec = opSpec(n.op);
    std::vector<int64_t> keptIn, keptOut;
    for (ValueId v : n.inputs) keptIn.push_back(static_cast<int64_t>(kept[v].size()));
    for (ValueId v : n.outputs) keptOut.push_back(static_cast<int64_t>(kept[v].size()));
    std::vector<bool> copied(n.tensors.size(), options.foldBeta);
    for (const TensorChannelDims& d : slicedChannelDims(n)) {  // decided on the unpruned node
      for (size_t i = 0; i < n.tensors.size(); ++i) {
        if (n.tensors[i].name != d.tensor) continue;
        at::Tensor& t = n.tensors[i].tensor;
        // index_select makes a new tensor: slicing is the copy.
        if (d.outDim >= 0 && static_cast<int64_t>(kept[n.outputs[0]].size()) != t.size(d.outDim)) {
          t = t.detach().index_select(d.outDim, at::tensor(kept[n.outputs[0]], at::kLong));
          copied[i] = true;
        }
        if (d.inDim >= 0 && static_cast<int64_t>(kept[n.inputs[0]].size()) != t.size(d.inDim)) {
          t = t.detach().index_select(d.inDim, at::tensor(kept[n.inputs[0]], at::kLong));
          copied[i] = true;
        }
      }
    }
    for (size_t i = 0; i < n.tensors.size(); ++i)
      if (!copied[i]) n.tensors[i].tensor = n.tensors[i].tensor.detach().clone();
    if (spec.resizeAttrs) spec.resizeAttrs(n, keptIn, keptOut);
  }

  std::vector<Shape> inputShapes;
  for (ValueId v : src.inputs()) inputShapes.push_back(src.value(v).shape);
  withErrorContext("surgery", [&] { inferShapes(out, inputShapes); });
  if (options.forwardCheck) {
    std::vector<at::Tensor> inputs;
    for (const Shape& s : inputShapes) {
      Shape one = s;
      one[0] = 1;
      inputs.push_back(at::randn(one));
    }
    Graph probe = out.share();  // runInference may move tensors; the probe shares them on CPU
    withErrorContext("surgery forward check", [&] { runInference(probe, inputs); });
  }

  result.log = logOfPlan(deps, plan);
  return result;
}

}  // namespace prunelab
