#include "widgets/graph_units.h"

#include <algorithm>

namespace prunelab::widgets {

bool scopeWithin(const QString& scope, const QString& outer) {
  return outer.isEmpty() || scope == outer ||
         (scope.size() > outer.size() && scope.startsWith(outer) && scope[outer.size()] == '.');
}

QString childScope(const QString& root, const QString& scope) {
  const int start = root.isEmpty() ? 0 : root.size() + 1;
  const int dot = scope.indexOf('.', start);
  return dot < 0 ? scope : scope.left(dot);
}

GraphUnits groupUnits(const NetworkView& net, const QSet<QString>& collapsed) {
  GraphUnits g;
  g.unitOfNode = QVector<int>(net.nodes.size(), -1);
  for (int i = 0; i < net.nodes.size(); ++i) {
    const GraphNodeInfo& n = net.nodes[i];
    QString key = n.name;
    for (int from = 0; !collapsed.isEmpty();) {  // the outermost collapsed scope holding the node
      const int dot = n.scope.indexOf('.', from);
      const QString prefix = dot < 0 ? n.scope : n.scope.left(dot);
      if (collapsed.contains(prefix)) {
        key = "[" + prefix + "]";
        break;
      }
      if (dot < 0) break;
      from = dot + 1;
    }
    auto it = g.unitIndex.find(key);
    if (it == g.unitIndex.end()) {
      GraphUnit u;
      u.key = key;
      u.block = key.startsWith('[');
      u.emphasised = u.block || n.channelSource;
      it = g.unitIndex.insert(key, g.units.size());
      g.units.push_back(u);
    }
    g.units[it.value()].nodes.push_back(i);
    g.unitOfNode[i] = it.value();
  }
  QSet<QPair<int, int>> seen;
  for (const GraphEdge& e : net.edges) {
    if (e.from < 0 || e.to < 0 || e.from >= net.nodes.size() || e.to >= net.nodes.size()) continue;
    const int a = g.unitOfNode[e.from], b = g.unitOfNode[e.to];
    if (a == b || seen.contains({a, b})) continue;
    seen.insert({a, b});
    g.edges.push_back({a, b});
  }
  return g;
}

QSet<QString> childBlocks(const NetworkView& net, const QString& root, const QString& except) {
  QHash<QString, int> count;
  for (const GraphNodeInfo& n : net.nodes)
    if (n.scope != root && scopeWithin(n.scope, root)) ++count[childScope(root, n.scope)];
  QSet<QString> out;
  for (auto it = count.cbegin(); it != count.cend(); ++it)
    if (it.value() > 1 && it.key() != except) out.insert(it.key());
  return out;
}

QSet<QString> topLevelBlocks(const NetworkView& net) {
  QSet<QString> out;
  QString root;
  for (int depth = 0; depth < 8; ++depth) {
    QHash<QString, int> count;
    int total = 0;
    for (const GraphNodeInfo& n : net.nodes)
      if (n.scope != root && scopeWithin(n.scope, root)) ++count[childScope(root, n.scope)], ++total;
    QString big;
    for (auto it = count.cbegin(); it != count.cend(); ++it)
      if (it.value() * 2 > total) big = it.key();
    out.unite(childBlocks(net, root, big));
    if (big.isEmpty()) break;
    root = big;
  }
  return out;
}

bool countsInBlock(const GraphNodeInfo& n, bool networkHasGroups) {
  return n.channelSource && (n.group >= 0 || !networkHasGroups);
}

bool hasGroups(const NetworkView& net) {
  return std::any_of(net.nodes.begin(), net.nodes.end(), [](const GraphNodeInfo& n) { return n.group >= 0; });
}

BlockSummary summarise(const GraphUnit& unit, const NetworkView& net) {
  BlockSummary s;
  const bool groups = hasGroups(net);
  for (int i : unit.nodes) {
    const GraphNodeInfo& n = net.nodes[i];
    s.macs += n.macs;
    if (countsInBlock(n, groups)) ++s.convs, s.channels += n.channels, s.kept += n.kept;
  }
  return s;
}

}  // namespace prunelab::widgets
