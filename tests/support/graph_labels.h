#pragma once
// Reading the network graph's box labels back from the scene and the widths they should
// show from the model itself (its own dependency analysis), for tests that check the graph
// tells the truth: block boxes read "<scope>" then "<MACs>  kept/total", node boxes
// "<Op>  kept/total" then the node's name.

#include <QStringList>

#include <map>
#include <string>
#include <vector>

#include "analysis/cost.h"
#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "widgets/network_graph_view.h"

namespace prunelab::test {

using GraphLevel = widgets::NetworkGraphView::Level;

// scope -> {kept, total} over the block's grouped channel sources, from the model itself.
inline std::map<QString, std::pair<int64_t, int64_t>> blockCounts(const Graph& g, const QStringList& scopes) {
  const DependencyGraph deps(g);
  std::map<QString, std::pair<int64_t, int64_t>> r;
  for (const QString& scope : scopes) {
    const std::string s = scope.toStdString();
    int64_t channels = 0;
    for (const Node& n : g.nodes()) {
      if (n.scope != s && n.scope.rfind(s + ".", 0) != 0) continue;
      if (n.op != OpKind::Conv && n.op != OpKind::Linear) continue;
      // As the graph counts a block's convs: those in a dependency group (pinned outputs too).
      int grp = deps.groupOfSource(n.id);
      if (grp < 0) grp = deps.locate(n.outputs[0], 0).first;
      if (grp < 0) continue;
      channels += deps.channelCount(n.outputs[0]);
    }
    r[scope] = {channels, channels};
  }
  return r;
}

// "model.2" -> {kept, total} as the block boxes say it ("12/16" on their second line).
inline std::map<QString, std::pair<int64_t, int64_t>> shownBlockCounts(const widgets::NetworkGraphView& view) {
  std::map<QString, std::pair<int64_t, int64_t>> r;
  for (const QString& key : view.keysOf(GraphLevel::Blocks)) {
    if (!key.startsWith('[')) continue;
    const QStringList lines = view.linesOf(GraphLevel::Blocks, key);
    const QString scope = key.mid(1, key.size() - 2);
    for (const QString& part : lines.value(1).split("  ")) {
      const QStringList kt = part.split('/');
      if (kt.size() == 2) r[scope] = {kt[0].toLongLong(), kt[1].toLongLong()};
    }
  }
  return r;
}

// Every node box whose "kept/total" disagrees with the model: total must be the node's
// output channels; with no plan pending, kept must equal total. Returns what disagrees
// ("model.2.cv1.conv shows 8/16, the model has 12"); `checked` counts the boxes read.
inline std::vector<std::string> nodeLabelMismatches(const widgets::NetworkGraphView& view, const Graph& g,
                                                    bool planPending, int* checked = nullptr) {
  std::vector<std::string> bad;
  int n = 0;
  for (const QString& key : view.keysOf(GraphLevel::Nodes)) {
    const QStringList lines = view.linesOf(GraphLevel::Nodes, key);
    if (lines.size() < 2) continue;
    const QStringList parts = lines[0].split("  ");
    const QStringList kt = parts.value(1).split('/');
    if (kt.size() != 2) continue;
    const Node* node = g.findNode(lines[1].toStdString());
    if (!node || node->outputs.empty()) continue;
    const auto& shape = g.value(node->outputs[0]).shape;
    if (shape.size() < 2) continue;
    ++n;
    const int64_t kept = kt[0].toLongLong(), total = kt[1].toLongLong();
    if (total != shape[1] || (!planPending && kept != total))
      bad.push_back(lines[1].toStdString() + " shows " + std::to_string(kept) + "/" + std::to_string(total) +
                    ", the model has " + std::to_string(shape[1]));
  }
  if (checked) *checked = n;
  return bad;
}

// Every block box whose MACs disagree with the model's (the sum of its nodes' MACs, as
// computeCost counts them), within the label's rounding ("1.03 M MACs": 3 significant digits).
inline std::vector<std::string> blockMacsMismatches(const widgets::NetworkGraphView& view, const Graph& g,
                                                   int* checked = nullptr) {
  const GraphCost cost = computeCost(g);
  std::vector<std::string> bad;
  int n = 0;
  for (const QString& key : view.keysOf(GraphLevel::Blocks)) {
    if (!key.startsWith('[')) continue;
    const std::string scope = key.mid(1, key.size() - 2).toStdString();
    double shown = -1;
    for (const QString& part : view.linesOf(GraphLevel::Blocks, key).value(1).split("  ")) {
      if (!part.endsWith(" MACs")) continue;
      const QStringList w = part.split(' ');  // "1.03", "M", "MACs" or "512", "MACs"
      const double unit = w.size() == 3 ? (w[1] == "G" ? 1e9 : w[1] == "M" ? 1e6 : w[1] == "K" ? 1e3 : 1.0) : 1.0;
      shown = w[0].toDouble() * unit;
    }
    if (shown < 0) continue;
    double want = 0;
    for (const LayerCost& l : cost.layers) {
      if (l.node < 0) continue;
      const std::string& s = g.node(l.node).scope;
      if (s == scope || s.rfind(scope + ".", 0) == 0) want += double(l.macs);
    }
    ++n;
    if (std::abs(shown - want) > std::max(0.006 * want, 1.0))
      bad.push_back(scope + " shows " + std::to_string(shown) + " MACs, the model has " + std::to_string(want));
  }
  if (checked) *checked = n;
  return bad;
}

// Node labels and block MACs together, as a test states them: "" when both agree with the
// model (and at least 20 node boxes and 10 blocks were read), else the first problem.
inline std::string nodeAndMacsProblem(const widgets::NetworkGraphView& view, const Graph& g, bool planPending) {
  int nodes = 0, blocks = 0;
  const auto bad = nodeLabelMismatches(view, g, planPending, &nodes);
  const auto macs = blockMacsMismatches(view, g, &blocks);
  if (nodes < 20) return std::to_string(nodes) + " node boxes read";
  if (blocks < 10) return std::to_string(blocks) + " block boxes with MACs read";
  if (!bad.empty()) return bad.front();
  return macs.empty() ? std::string() : macs.front();
}

}  // namespace prunelab::test
