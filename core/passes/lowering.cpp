#include "passes/lowering.h"

#include "analysis/shape_inference.h"
#include "passes/lower_detect_decode.h"
#include "util/error.h"

namespace prunelab::passes {

LowerFn loweringFor(OpKind kind) {
  switch (kind) {
    case OpKind::DetectDecode: return lowerDetectDecode;
    default: return nullptr;
  }
}

Graph lowerNode(const Node& node, const std::vector<Shape>& inputShapes) {
  const LowerFn lower = loweringFor(node.op);
  if (!lower) throw Error(node.name, "op " + std::string(opKindName(node.op)) + " has no lowering");
  Graph fragment = lower(node, inputShapes);
  inferShapes(fragment, inputShapes);
  return fragment;
}

}  // namespace prunelab::passes
