#include "detect/yolo_head.h"

#include <ATen/ATen.h>

#include "util/error.h"

namespace prunelab::detect {

namespace {
const Node* findDecode(const Graph& g) {
  for (const Node& n : g.nodes())
    if (n.op == OpKind::DetectDecode) return &n;
  return nullptr;
}
}  // namespace

bool isDetector(const Graph& graph) { return findDecode(graph) != nullptr; }

at::Tensor gridPoints(int64_t ny, int64_t nx, double offset, const at::TensorOptions& options) {
  const at::Tensor ys = at::arange(ny, options).add(offset), xs = at::arange(nx, options).add(offset);
  const auto g = at::meshgrid({ys, xs}, "ij");
  return at::stack({g[1], g[0]}, -1).reshape({-1, 2});
}

YoloHead readYoloHead(const Graph& graph) {
  const Node* n = findDecode(graph);
  if (!n) throw Error(graph.metadata().count("model") ? graph.metadata().at("model") : "model",
                      "is not a YOLO detector (no Detect head)");
  YoloHead h;
  h.style = n->attrs.getString("style");
  h.nc = n->attrs.getInt("nc");
  h.strides = n->attrs.getInts("strides");
  if (h.style == "v5") h.anchors = n->tensor("anchors");
  if (h.style == "dfl") h.regMax = n->attrs.getInt("reg_max");
  if (graph.outputs().size() != h.levels() + 1)
    throw Error(n->name, "expected " + std::to_string(h.levels()) + " raw outputs and a decoded one");
  return h;
}

}  // namespace prunelab::detect
