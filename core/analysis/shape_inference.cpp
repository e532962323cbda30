#include "analysis/shape_inference.h"

#include "ops/op_table.h"
#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

void inferShapes(Graph& graph, const std::vector<Shape>& inputShapes) {
  if (inputShapes.size() != graph.inputs().size())
    throw Error("shape inference", "graph has " + std::to_string(graph.inputs().size()) + " inputs, got " +
                                       std::to_string(inputShapes.size()) + " shapes");
  for (size_t i = 0; i < inputShapes.size(); ++i) {
    checkedNumel("input '" + graph.value(graph.inputs()[i]).name + "'", inputShapes[i]);
    graph.value(graph.inputs()[i]).shape = inputShapes[i];
  }
  for (const Node& n : graph.nodes()) {
    const OpSpec& spec = opSpec(n.op);
    const int nin = static_cast<int>(n.inputs.size());
    if (nin < spec.minInputs || (spec.maxInputs >= 0 && nin > spec.maxInputs))
      throw Error(n.name, std::string(opKindName(n.op)) + " cannot take " + std::to_string(nin) + " inputs");
    std::vector<Shape> in;
    in.reserve(n.inputs.size());
    for (ValueId v : n.inputs) in.push_back(graph.value(v).shape);
    std::vector<Shape> out = withErrorContext(n.name, [&] { return spec.inferShapes(n, in); });
    if (out.size() != n.outputs.size())
      throw Error(n.name, "produces " + std::to_string(out.size()) + " outputs, graph has " +
                              std::to_string(n.outputs.size()));
    // Shape rules compute with the dims they are given; a huge input or a lying file can
    // make them produce negative or overflowing sizes, which must stop here.
    for (size_t i = 0; i < out.size(); ++i) {
      checkedNumel(n.name + ": output", out[i]);
      graph.value(n.outputs[i]).shape = std::move(out[i]);
    }
  }
}

void inferShapes(Graph& graph, const Shape& chw) {
  Shape s = {1};
  s.insert(s.end(), chw.begin(), chw.end());
  inferShapes(graph, std::vector<Shape>{s});
}

}  // namespace prunelab
