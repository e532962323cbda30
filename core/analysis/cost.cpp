#include "analysis/cost.h"

#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

MacsConvention defaultConvention(const Graph& graph) {
  const auto it = graph.metadata().find("task");
  return it != graph.metadata().end() && it->second == "detect" ? MacsConvention::FoldedBn : MacsConvention::TorchInfo;
}

const char* conventionName(MacsConvention c) { return c == MacsConvention::FoldedBn ? "folded-bn" : "torchinfo"; }

std::vector<int64_t> macsPerElement(const Graph& graph, const Node& n, MacsConvention convention) {
  std::vector<int64_t> factors(n.tensors.size(), 0);
  const auto fn = opSpec(n.op).macsPerElement;
  if (!fn) return factors;
  std::vector<Shape> in, out;
  for (ValueId v : n.inputs) in.push_back(graph.value(v).shape);
  for (ValueId v : n.outputs) out.push_back(graph.value(v).shape);
  if (!out.empty() && out[0].empty()) throw Error(n.name, "shapes unknown: run inferShapes() first");
  for (size_t i = 0; i < n.tensors.size(); ++i) factors[i] = fn(n, n.tensors[i], in, out, convention);
  return factors;
}

GraphCost computeCost(const Graph& graph) { return computeCost(graph, defaultConvention(graph)); }

GraphCost computeCost(const Graph& graph, MacsConvention convention) {
  GraphCost total;
  total.convention = convention;
  for (const Node& n : graph.nodes()) {
    LayerCost lc;
    lc.node = n.id;
    lc.name = n.name;
    lc.op = opKindName(n.op);
    if (!n.inputs.empty()) lc.inputShape = graph.value(n.inputs[0]).shape;
    if (!n.outputs.empty()) lc.outputShape = graph.value(n.outputs[0]).shape;
    if (!n.outputs.empty() && lc.outputShape.empty()) throw Error(n.name, "shapes unknown: run inferShapes() first");
    const std::vector<int64_t> factors = macsPerElement(graph, n, convention);
    for (size_t i = 0; i < n.tensors.size(); ++i) {
      const at::Tensor& t = n.tensors[i].tensor;
      (n.tensors[i].isBuffer ? total.buffers : lc.params) += t.numel();
      total.sizeBytes += t.numel() * static_cast<int64_t>(t.element_size());
      // Shapes are bounded (analysis/shape_inference), but a product of two bounded
      // counts can still pass int64: say so rather than print a negative MAC count.
      lc.macs = checkedAdd(n.name + ": MACs", lc.macs, checkedMul(n.name + ": MACs", t.numel(), factors[i]));
    }
    total.params += lc.params;
    total.macs = checkedAdd(n.name + ": MACs", total.macs, lc.macs);
    total.layers.push_back(std::move(lc));
  }
  return total;
}

}  // namespace prunelab
