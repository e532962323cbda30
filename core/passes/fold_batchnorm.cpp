#include "passes/fold_batchnorm.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>

#include "ops/op_table.h"
#include "passes/graph_rewriter.h"

namespace prunelab::passes {

namespace {

// BatchNorm id -> the convolution it folds into: a node with the Conv channel rule (its
// weight's out channels are dim 1 of its output, which BatchNorm normalises), read by the
// BatchNorm alone. The weight's out dim comes from the op's layout. BatchNorm by kind, not the channel-norm trait: what folds is its running
// statistics, which other normalisations (GroupNorm's per-sample ones) do not have.
std::map<NodeId, NodeId> foldable(const Graph& g) {
  std::map<NodeId, NodeId> r;
  for (const Node& n : g.nodes()) {
    if (n.op != OpKind::BatchNorm) continue;
    const Value& in = g.value(n.inputs[0]);
    if (in.producer < 0 || in.consumers.size() != 1) continue;
    const Node& producer = g.node(in.producer);
    if (opSpec(producer.op).channelRule != ChannelRule::Conv || outChannelDim(producer.op, "weight") < 0) continue;
    if (std::find(g.outputs().begin(), g.outputs().end(), in.id) != g.outputs().end()) continue;
    r[n.id] = in.producer;
  }
  return r;
}

}  // namespace

Graph foldBatchNorm(const Graph& graph, FoldBatchNormReport* report) {
  const std::map<NodeId, NodeId> bnToConv = foldable(graph);
  std::map<NodeId, NodeId> convToBn;
  for (const auto& [bn, conv] : bnToConv) convToBn[conv] = bn;

  GraphRewriter rw(graph);
  for (const Node& n : graph.nodes()) {
    if (bnToConv.count(n.id)) {
      // The Conv already stands for it: readers of the BatchNorm read the Conv.
      rw.alias(n.outputs[0], rw.map(graph.node(bnToConv.at(n.id)).outputs[0]));
      continue;
    }
    const auto bnIt = convToBn.find(n.id);
    if (bnIt == convToBn.end()) {
      rw.copy(n);
      continue;
    }
    const Node& bn = graph.node(bnIt->second);
    const at::Tensor w = n.tensor("weight").detach();
    const at::Tensor scale =
        bn.tensor("weight").detach() / at::sqrt(bn.tensor("running_var").detach() + bn.attrs.getFloat("eps", 1e-5));
    const at::Tensor b0 = n.hasTensor("bias") ? n.tensor("bias").detach() : at::zeros_like(scale);
    const at::Tensor bias = (b0 - bn.tensor("running_mean").detach()) * scale + bn.tensor("bias").detach();
    // The scale multiplies the weight along its out dim, wherever the op stores it.
    const at::Tensor folded = w * scale.reshape(outChannelBroadcastShape(n.op, "weight", w.dim()));
    const NodeId id = rw.copyWithTensors(n, {{"weight", folded, false}, {"bias", bias, false}});
    // The folded value carries the BatchNorm's name and shape.
    Value& out = rw.result().value(rw.result().node(id).outputs[0]);
    out.name = graph.value(bn.outputs[0]).name;
    out.shape = graph.value(bn.outputs[0]).shape;
  }
  if (report) report->folded = static_cast<int>(bnToConv.size());
  return rw.finish();
}

}  // namespace prunelab::passes
