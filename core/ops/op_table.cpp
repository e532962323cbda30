#include "ops/op_table.h"

#include <mutex>

#include "util/error.h"

namespace prunelab {

namespace {
std::vector<OpSpec> buildTable() {
  std::vector<OpSpec> entries;
  ops::addConvOps(entries);
  ops::addNormOps(entries);
  ops::addActivationOps(entries);
  ops::addElementwiseOps(entries);
  ops::addPoolOps(entries);
  ops::addShapeOps(entries);
  ops::addLinearOps(entries);
  ops::addTensorOps(entries);
  ops::addDetectOps(entries);

  std::vector<OpSpec> table(kOpKindCount);
  std::vector<bool> seen(kOpKindCount, false);
  for (auto& e : entries) {
    table[static_cast<size_t>(e.kind)] = e;
    seen[static_cast<size_t>(e.kind)] = true;
  }
  for (int i = 0; i < kOpKindCount; ++i)
    if (!seen[i]) throw Error(opKindName(static_cast<OpKind>(i)), "op has no entry in the op table");
  return table;
}
}  // namespace

const OpSpec& opSpec(OpKind kind) {
  static const std::vector<OpSpec> table = buildTable();
  return table[static_cast<size_t>(kind)];
}

bool flattensChannels(const Shape& in, const Shape& out) {
  return in.size() == 4 && out.size() == 2 && out[0] == in[0] && out[1] == in[1] * in[2] * in[3];
}

namespace ops {

void expectRank(const Node& n, const Shape& s, size_t rank) {
  if (s.size() != rank)
    throw Error(n.name, "expects a rank-" + std::to_string(rank) + " input, got " + shapeToString(s));
}

std::vector<Shape> sameShapeAsInput(const Node& n, const std::vector<Shape>& in) { return {in.at(0)}; }

}  // namespace ops
}  // namespace prunelab
