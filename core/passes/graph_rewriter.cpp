#include "passes/graph_rewriter.h"

#include "util/error.h"

namespace prunelab::passes {

GraphRewriter::GraphRewriter(const Graph& source) : m_src(source), m_map(source.values().size(), -1) {
  for (ValueId v : source.inputs()) {
    const Value& in = source.value(v);
    m_map[v] = m_dst.addInput(in.name, in.shape);
  }
  m_dst.metadata() = source.metadata();
}

ValueId GraphRewriter::map(ValueId v) const {
  const ValueId r = m_map.at(v);
  if (r < 0) throw Error(m_src.value(v).name, "is read before the pass produced it");
  return r;
}

std::vector<ValueId> GraphRewriter::map(const std::vector<ValueId>& vs) const {
  std::vector<ValueId> r;
  r.reserve(vs.size());
  for (ValueId v : vs) r.push_back(map(v));
  return r;
}

void GraphRewriter::alias(ValueId v, ValueId now) { m_map.at(v) = now; }

NodeId GraphRewriter::copy(const Node& n) { return copyWithTensors(n, n.tensors); }

NodeId GraphRewriter::copyWithTensors(const Node& n, std::vector<NamedTensor> tensors) {
  const NodeId id = m_dst.addNode(n.op, n.name, map(n.inputs), n.attrs, std::move(tensors),
                                  static_cast<int>(n.outputs.size()), n.scope);
  const Node& made = m_dst.node(id);
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Value& was = m_src.value(n.outputs[i]);
    Value& now = m_dst.value(made.outputs[i]);
    now.name = was.name;
    now.shape = was.shape;
    m_map[was.id] = now.id;
  }
  return id;
}

Graph GraphRewriter::finish() {
  for (ValueId v : m_src.outputs()) m_dst.markOutput(map(v));
  return std::move(m_dst);
}

}  // namespace prunelab::passes
