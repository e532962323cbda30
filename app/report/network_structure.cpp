#include "report/network_structure.h"

#include "ops/op_table.h"

namespace prunelab::report {

widgets::NetworkView networkStructure(const Graph& g) {
  widgets::NetworkView v;
  for (const Node& n : g.nodes()) {
    widgets::GraphNodeInfo info;
    info.id = n.id;
    info.name = QString::fromStdString(n.name);
    info.scope = QString::fromStdString(n.scope);
    info.op = opKindName(n.op);
    info.channelSource = opSpec(n.op).isChannelSource;
    if (!n.outputs.empty()) info.shape = QString::fromStdString(shapeToString(g.value(n.outputs[0]).shape));
    v.nodes.push_back(info);
    for (ValueId in : n.inputs) {
      const NodeId p = g.value(in).producer;
      if (p >= 0) v.edges.push_back({p, n.id});
    }
  }
  return v;
}

int outputChannels(const Graph& g, const Node& n) {
  if (n.outputs.empty()) return 0;
  const Shape& s = g.value(n.outputs[0]).shape;
  return s.size() == 4 || s.size() == 2 ? static_cast<int>(s[1]) : 0;
}

}  // namespace prunelab::report
