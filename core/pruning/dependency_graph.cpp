#include "pruning/dependency_graph.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "ops/op_table.h"
#include "graph/scope_pattern.h"
#include "util/error.h"

namespace prunelab {

bool Group::prunable() const { return prunableCount() > 0; }

int64_t Group::prunableCount() const { return std::count(pinned.begin(), pinned.end(), false); }

namespace {

class UnionFind {
 public:
  explicit UnionFind(int64_t n) : m_parent(static_cast<size_t>(n)) { std::iota(m_parent.begin(), m_parent.end(), 0); }
  int64_t find(int64_t x) {
    while (m_parent[x] != x) x = m_parent[x] = m_parent[m_parent[x]];
    return x;
  }
  void unite(int64_t a, int64_t b) {
    a = find(a);
    b = find(b);
    if (a != b) m_parent[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int64_t> m_parent;
};

int64_t channelsOf(const Shape& s) { return (s.size() == 4 || s.size() == 2) ? s[1] : 0; }

// Every (value, channel) pair of a graph as one element of a union-find, with a pinned
// flag per element: what each op's channel rule joins.
class Elements {
 public:
  explicit Elements(const Graph& graph) : m_base(graph.values().size()), m_count(graph.values().size()) {
    int64_t total = 0;
    for (const Value& v : graph.values()) {
      if (v.shape.empty()) throw Error("dependency analysis", "value " + v.name + " has no shape: run inferShapes() first");
      m_base[v.id] = total;
      m_count[v.id] = channelsOf(v.shape);
      total += m_count[v.id];
    }
    m_uf = UnionFind(total);
    m_pinned.assign(static_cast<size_t>(total), false);
  }
  int64_t total() const { return static_cast<int64_t>(m_pinned.size()); }
  int64_t count(ValueId v) const { return m_count[v]; }
  int64_t el(ValueId v, int64_t c) const { return m_base[v] + c; }
  int64_t root(int64_t e) { return m_uf.find(e); }
  bool pinned(int64_t e) const { return m_pinned[e]; }
  void unite(ValueId a, int64_t ca, ValueId b, int64_t cb) { m_uf.unite(el(a, ca), el(b, cb)); }
  void pin(ValueId v) {
    for (int64_t c = 0; c < m_count[v]; ++c) m_pinned[el(v, c)] = true;
  }
  // Channel c of a is channel c of b; values of different widths cannot be cut together.
  void tie(ValueId a, ValueId b) {
    if (m_count[a] != m_count[b]) {
      pin(a);
      pin(b);
      return;
    }
    for (int64_t c = 0; c < m_count[a]; ++c) unite(a, c, b, c);
  }
  void pinNode(const Node& n) {
    for (ValueId v : n.inputs) pin(v);
    for (ValueId v : n.outputs) pin(v);
  }
  const std::vector<int64_t>& bases() const { return m_base; }
  const std::vector<int64_t>& counts() const { return m_count; }

 private:
  std::vector<int64_t> m_base;   // first element of each value
  std::vector<int64_t> m_count;  // channels of each value (0: no channel dim)
  UnionFind m_uf{0};
  std::vector<bool> m_pinned;
};

// TieInputs: an operand that broadcasts over the channel dim (a scalar, a [1,1,H,W] mask)
// is the same for every channel: it neither ties nor pins them.
void tieElementwise(const Graph& graph, const Node& n, Elements& e) {
  const ValueId out0 = n.outputs[0];
  const Shape& os = graph.value(out0).shape;
  for (ValueId in : n.inputs) {
    const Shape& is = graph.value(in).shape;
    const int64_t channelDim = 1 - static_cast<int64_t>(os.size() - is.size());
    const bool broadcast = os.size() >= 2 && is.size() <= os.size() &&
                           (channelDim < 0 || is[static_cast<size_t>(channelDim)] == 1) && os[1] != 1;
    if (!broadcast) e.tie(in, out0);
  }
}

// Concat along channels: input i's channel c is the output's channel offset_i + c.
void joinConcat(const Graph& graph, const Node& n, Elements& e) {
  const ValueId out0 = n.outputs[0];
  if (n.attrs.getInt("axis", 1) != 1 || graph.value(out0).shape.size() != 4) {
    for (ValueId in : n.inputs) e.tie(in, out0);
    return;
  }
  int64_t offset = 0;
  for (ValueId in : n.inputs) {
    for (int64_t c = 0; c < e.count(in); ++c) e.unite(in, c, out0, offset + c);
    offset += e.count(in);
  }
}

// Split along channels: output i's channel c is the input's channel offset_i + c; two
// equal halves are tied channel by channel when `tieHalves` (Options::SplitHalves).
void joinSplit(const Graph& graph, const Node& n, bool tieHalves, Elements& e) {
  const ValueId in0 = n.inputs[0];
  if (n.attrs.getInt("axis", 1) != 1 || graph.value(in0).shape.size() != 4) {
    for (ValueId out : n.outputs) e.tie(in0, out);
    return;
  }
  int64_t offset = 0;
  for (ValueId out : n.outputs) {
    for (int64_t c = 0; c < e.count(out); ++c) e.unite(in0, offset + c, out, c);
    offset += e.count(out);
  }
  if (tieHalves && n.outputs.size() == 2 && e.count(n.outputs[0]) == e.count(n.outputs[1]))
    e.tie(n.outputs[0], n.outputs[1]);
}

// Flatten [N, C, H, W] -> [N, C*H*W]: channel c is features [c*HW, (c+1)*HW).
void joinFlatten(const Graph& graph, const Node& n, Elements& e) {
  const ValueId in0 = n.inputs[0], out0 = n.outputs[0];
  const Shape& s = graph.value(in0).shape;
  if (n.inputs.size() != 1 || !flattensChannels(s, graph.value(out0).shape)) {
    e.pinNode(n);
    return;
  }
  const int64_t hw = s[2] * s[3];
  for (int64_t c = 0; c < s[1]; ++c)
    for (int64_t p = 0; p < hw; ++p) e.unite(in0, c, out0, c * hw + p);
}

bool tiesSplitHalves(const Graph& graph, const DependencyGraph::Options& options) {
  using SplitHalves = DependencyGraph::Options::SplitHalves;
  const auto style = graph.metadata().find("yolo_style");
  return options.splitHalves == SplitHalves::Tie ||
         (options.splitHalves == SplitHalves::Auto && style != graph.metadata().end() && style->second == "dfl");
}

// Joins the elements by every node's channel rule and the user's pins; returns the
// channel sources as (node, its output value).
std::vector<std::pair<NodeId, ValueId>> joinChannels(const Graph& graph, const DependencyGraph::Options& options,
                                                     Elements& e) {
  const bool tieHalves = tiesSplitHalves(graph, options);
  std::vector<std::pair<NodeId, ValueId>> sources;
  for (const Node& n : graph.nodes()) {
    const ValueId in0 = n.inputs.empty() ? -1 : n.inputs[0];
    const ValueId out0 = n.outputs.empty() ? -1 : n.outputs[0];
    switch (opSpec(n.op).channelRule) {
      case ChannelRule::PassThrough: e.tie(in0, out0); break;
      case ChannelRule::TieInputs: tieElementwise(graph, n, e); break;
      case ChannelRule::Concat: joinConcat(graph, n, e); break;
      case ChannelRule::Split: joinSplit(graph, n, tieHalves, e); break;
      case ChannelRule::Conv:
        switch (channelGrouping(n)) {
          case ChannelGrouping::Dense: sources.emplace_back(n.id, out0); break;
          case ChannelGrouping::Depthwise: e.tie(in0, out0); break;
          case ChannelGrouping::Grouped: e.pinNode(n); break;  // channels tied per group: not supported yet
        }
        break;
      case ChannelRule::Linear:
        if (graph.value(out0).shape.size() == 2 && graph.value(in0).shape.size() == 2) sources.emplace_back(n.id, out0);
        else e.pinNode(n);
        break;
      case ChannelRule::Flatten: joinFlatten(graph, n, e); break;
      case ChannelRule::Pin:
      case ChannelRule::Undeclared: e.pinNode(n); break;
    }
    if (!options.pinnedScopes.empty() && scopeMatchesAny(n.scope, options.pinnedScopes)) e.pinNode(n);
    if (!options.protectedScopes.empty() && scopeMatchesAny(n.scope, options.protectedScopes))
      for (ValueId v : n.outputs) e.pin(v);
  }
  for (ValueId v : graph.inputs()) e.pin(v);
  for (ValueId v : graph.outputs()) e.pin(v);
  return sources;
}

// The connected sets of elements: each root's sorted source nodes, and which are pinned.
struct Components {
  std::map<int64_t, std::vector<NodeId>> sourcesOf;
  std::map<int64_t, bool> pinned;
};

Components componentsOf(const std::vector<std::pair<NodeId, ValueId>>& sources, Elements& e) {
  Components r;
  for (const auto& [node, value] : sources)
    for (int64_t c = 0; c < e.count(value); ++c) {
      auto& s = r.sourcesOf[e.root(e.el(value, c))];
      if (s.empty() || s.back() != node) s.push_back(node);
    }
  for (int64_t el = 0; el < e.total(); ++el)
    if (e.pinned(el)) r.pinned[e.root(el)] = true;
  return r;
}

// What the analysis keeps of the components: groups keyed by source set, channels
// numbered in the first source's order.
struct Grouping {
  std::vector<Group> groups;
  std::vector<int> sourceGroup;          // node -> group of its output channels
  std::vector<int> elementGroup;         // element -> group (-1: none)
  std::vector<int64_t> elementChannel;   // element -> channel within its group
};

Grouping formGroups(const Graph& graph, const std::vector<std::pair<NodeId, ValueId>>& sources, Elements& e) {
  const Components comp = componentsOf(sources, e);
  Grouping r;
  std::map<std::vector<NodeId>, int> groupOfKey;
  std::map<int64_t, std::pair<int, int64_t>> rootSlot;  // root -> (group, channel)
  r.sourceGroup.assign(graph.nodes().size(), -1);
  for (const auto& [node, value] : sources) {
    for (int64_t c = 0; c < e.count(value); ++c) {
      const int64_t root = e.root(e.el(value, c));
      const auto& key = comp.sourcesOf.at(root);
      if (key.front() != node || rootSlot.count(root)) continue;
      auto it = groupOfKey.find(key);
      if (it == groupOfKey.end()) {
        Group g;
        g.id = static_cast<int>(r.groups.size());
        g.name = graph.node(node).name;
        g.sources = key;
        r.groups.push_back(std::move(g));
        it = groupOfKey.emplace(key, r.groups.back().id).first;
      }
      Group& g = r.groups[it->second];
      rootSlot[root] = {g.id, g.size++};
      g.pinned.push_back(comp.pinned.count(root) != 0);
    }
    if (e.count(value) > 0) {
      const auto slot = rootSlot.find(e.root(e.el(value, 0)));
      if (slot != rootSlot.end()) r.sourceGroup[node] = slot->second.first;
    }
  }
  r.elementGroup.assign(static_cast<size_t>(e.total()), -1);
  r.elementChannel.assign(static_cast<size_t>(e.total()), -1);
  for (int64_t el = 0; el < e.total(); ++el) {
    auto it = rootSlot.find(e.root(el));
    if (it == rootSlot.end()) continue;
    r.elementGroup[el] = it->second.first;
    r.elementChannel[el] = it->second.second;
  }
  return r;
}

}  // namespace

DependencyGraph::DependencyGraph(const Graph& graph, const Options& options) : m_graph(graph.share()) {
  Elements e(graph);
  const auto sources = joinChannels(graph, options, e);
  Grouping g = formGroups(graph, sources, e);
  m_base = e.bases();
  m_count = e.counts();
  m_groups = std::move(g.groups);
  m_sourceGroup = std::move(g.sourceGroup);
  m_elementGroup = std::move(g.elementGroup);
  m_elementChannel = std::move(g.elementChannel);
}

int DependencyGraph::groupOfSource(NodeId node) const {
  return node >= 0 && node < static_cast<NodeId>(m_sourceGroup.size()) ? m_sourceGroup[node] : -1;
}

std::pair<int, int64_t> DependencyGraph::locate(ValueId value, int64_t channel) const {
  if (channel < 0 || channel >= m_count[value]) return {-1, -1};
  const int64_t e = m_base[value] + channel;
  return {m_elementGroup[e], m_elementChannel[e]};
}

std::vector<GroupMember> DependencyGraph::members(int group) const {
  std::vector<GroupMember> result;
  const int64_t size = m_groups.at(group).size;
  for (const Node& n : m_graph.nodes()) {
    for (const TensorChannelDims& d : slicedChannelDims(n)) {
      for (const bool output : {true, false}) {
        const int dim = output ? d.outDim : d.inDim;
        if (dim < 0) continue;
        const ValueId v = output ? n.outputs.at(0) : n.inputs.at(0);
        GroupMember m{n.id, d.tensor, dim, output, std::vector<std::vector<int64_t>>(static_cast<size_t>(size))};
        bool any = false;
        for (int64_t c = 0; c < m_count[v]; ++c) {
          const auto [g, k] = locate(v, c);
          if (g != group) continue;
          m.indices[k].push_back(c);
          any = true;
        }
        if (any) result.push_back(std::move(m));
      }
    }
  }
  return result;
}

std::vector<std::vector<int64_t>> DependencyGraph::keptChannels(const std::vector<std::vector<int64_t>>& removed) const {
  std::vector<std::vector<bool>> mask(m_groups.size());
  for (size_t g = 0; g < m_groups.size(); ++g) {
    mask[g].assign(static_cast<size_t>(m_groups[g].size), false);
    if (g < removed.size())
      for (int64_t k : removed[g]) mask[g].at(static_cast<size_t>(k)) = true;
  }
  std::vector<std::vector<int64_t>> kept(m_count.size());
  for (size_t v = 0; v < m_count.size(); ++v) {
    kept[v].reserve(static_cast<size_t>(m_count[v]));
    for (int64_t c = 0; c < m_count[v]; ++c) {
      const int64_t e = m_base[v] + c;
      const int g = m_elementGroup[e];
      if (g < 0 || !mask[g][static_cast<size_t>(m_elementChannel[e])]) kept[v].push_back(c);
    }
  }
  return kept;
}

}  // namespace prunelab
