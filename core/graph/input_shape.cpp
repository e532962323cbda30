#include "graph/input_shape.h"

#include <sstream>
#include <stdexcept>

#include "util/error.h"
#include "util/tensor_limits.h"

namespace prunelab {

Shape parseShape(const std::string& text) {
  Shape r;
  std::string part;
  std::stringstream ss(text);
  while (std::getline(ss, part, text.find(',') != std::string::npos ? ',' : 'x')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(part, &used);
      if (used != part.size() || v <= 0) throw std::invalid_argument(part);
      r.push_back(v);
    } catch (const std::exception&) {
      throw Error("shape '" + text + "'", "expected positive integers like 3x32x32");
    }
    if (r.back() > kMaxInputDim)
      throw Error("shape '" + text + "'", "dimension " + std::to_string(r.back()) + " is larger than " +
                                           std::to_string(kMaxInputDim));
  }
  if (r.empty()) throw Error("shape '" + text + "'", "expected positive integers like 3x32x32");
  checkedNumel("shape '" + text + "'", r);
  return r;
}

Shape defaultInputShape(const Graph& graph) {
  if (auto it = graph.metadata().find("input"); it != graph.metadata().end()) return parseShape(it->second);
  if (graph.inputs().empty()) throw Error("model", "graph has no inputs");
  const Shape& s = graph.value(graph.inputs()[0]).shape;
  return Shape(s.begin() + 1, s.end());
}

}  // namespace prunelab
