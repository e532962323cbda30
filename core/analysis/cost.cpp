#include "analysis/cost.h"

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

GraphCost computeCost(const Graph& graph) {
  GraphCost total;
  for (const Node& n : graph.nodes()) {
    LayerCost lc;
    lc.node = n.id;
    lc.name = n.name;
    lc.op = opKindName(n.op);
    std::vector<Shape> in, out;
    for (ValueId v : n.inputs) in.push_back(graph.value(v).shape);
    for (ValueId v : n.outputs) out.push_back(graph.value(v).shape);
    if (!out.empty() && out[0].empty()) throw Error(n.name, "shapes unknown: run inferShapes() first");
    if (!in.empty()) lc.inputShape = in[0];
    if (!out.empty()) lc.outputShape = out[0];
    for (const auto& t : n.tensors) {
      (t.isBuffer ? total.buffers : lc.params) += t.tensor.numel();
      total.sizeBytes += t.tensor.numel() * static_cast<int64_t>(t.tensor.element_size());
    }
    if (const auto fn = opSpec(n.op).macs) lc.macs = fn(n, in, out);
    total.params += lc.params;
    total.macs += lc.macs;
    total.layers.push_back(std::move(lc));
  }
  return total;
}

}  // namespace prunelab
