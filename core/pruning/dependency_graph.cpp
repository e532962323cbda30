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

bool isDepthwiseConv(const Node& n) {
  const auto w = n.tensor("weight").sizes();
  const int64_t groups = n.attrs.getInt("groups", 1);
  return groups > 1 && w[1] == 1 && w[0] == groups;
}

}  // namespace

DependencyGraph::DependencyGraph(const Graph& graph, const Options& options) : m_graph(graph.share()) {
  const auto& values = graph.values();
  m_base.resize(values.size());
  m_count.resize(values.size());
  int64_t total = 0;
  for (const Value& v : values) {
    if (v.shape.empty()) throw Error("dependency analysis", "value " + v.name + " has no shape: run inferShapes() first");
    m_base[v.id] = total;
    m_count[v.id] = channelsOf(v.shape);
    total += m_count[v.id];
  }
  UnionFind uf(total);
  std::vector<bool> pinned(static_cast<size_t>(total), false);
  auto el = [&](ValueId v, int64_t c) { return m_base[v] + c; };
  auto pin = [&](ValueId v) {
    for (int64_t c = 0; c < m_count[v]; ++c) pinned[el(v, c)] = true;
  };
  auto tie = [&](ValueId a, ValueId b) {
    if (m_count[a] != m_count[b]) {
      pin(a);
      pin(b);
      return;
    }
    for (int64_t c = 0; c < m_count[a]; ++c) uf.unite(el(a, c), el(b, c));
  };
  auto pinNode = [&](const Node& n) {
    for (ValueId v : n.inputs) pin(v);
    for (ValueId v : n.outputs) pin(v);
  };

  using SplitHalves = Options::SplitHalves;
  const auto style = graph.metadata().find("yolo_style");
  const bool tieHalves = options.splitHalves == SplitHalves::Tie ||
                         (options.splitHalves == SplitHalves::Auto && style != graph.metadata().end() &&
                          style->second == "dfl");
  std::vector<std::pair<NodeId, ValueId>> sources;  // (node, its output value)
  for (const Node& n : graph.nodes()) {
    const ValueId in0 = n.inputs.empty() ? -1 : n.inputs[0];
    const ValueId out0 = n.outputs.empty() ? -1 : n.outputs[0];
    switch (opSpec(n.op).channelRule) {
      case ChannelRule::PassThrough:
        tie(in0, out0);
        break;
      case ChannelRule::TieInputs: {
        // An operand that broadcasts over the channel dim (a scalar, a [1,1,H,W] mask)
        // is the same for every channel: it neither ties nor pins them.
        const Shape& os = values[out0].shape;
        for (ValueId in : n.inputs) {
          const Shape& is = values[in].shape;
          const int64_t channelDim = 1 - static_cast<int64_t>(os.size() - is.size());
          const bool broadcast = os.size() >= 2 && is.size() <= os.size() &&
                                 (channelDim < 0 || is[static_cast<size_t>(channelDim)] == 1) && os[1] != 1;
          if (!broadcast) tie(in, out0);
        }
        break;
      }
      case ChannelRule::Concat: {
        const int64_t axis = n.attrs.getInt("axis", 1);
        if (axis != 1 || values[out0].shape.size() != 4) {
          for (ValueId in : n.inputs) tie(in, out0);
          break;
        }
        int64_t offset = 0;
        for (ValueId in : n.inputs) {
          for (int64_t c = 0; c < m_count[in]; ++c) uf.unite(el(in, c), el(out0, offset + c));
          offset += m_count[in];
        }
        break;
      }
      case ChannelRule::Split: {
        if (n.attrs.getInt("axis", 1) != 1 || values[in0].shape.size() != 4) {
          for (ValueId out : n.outputs) tie(in0, out);
          break;
        }
        int64_t offset = 0;
        for (ValueId out : n.outputs) {
          for (int64_t c = 0; c < m_count[out]; ++c) uf.unite(el(in0, offset + c), el(out, c));
          offset += m_count[out];
        }
        if (tieHalves && n.outputs.size() == 2 && m_count[n.outputs[0]] == m_count[n.outputs[1]])
          tie(n.outputs[0], n.outputs[1]);
        break;
      }
      case ChannelRule::Conv:
        if (n.attrs.getInt("groups", 1) == 1)
          sources.emplace_back(n.id, out0);
        else if (isDepthwiseConv(n))
          tie(in0, out0);
        else
          pinNode(n);  // general grouped conv: channels tied per group; not supported yet
        break;
      case ChannelRule::Linear:
        if (values[out0].shape.size() == 2 && values[in0].shape.size() == 2)
          sources.emplace_back(n.id, out0);
        else
          pinNode(n);
        break;
      case ChannelRule::Flatten: {
        const Shape& s = values[in0].shape;
        if (n.inputs.size() != 1 || !flattensChannels(s, values[out0].shape)) {
          pinNode(n);
          break;
        }
        const int64_t hw = s[2] * s[3];
        for (int64_t c = 0; c < s[1]; ++c)
          for (int64_t p = 0; p < hw; ++p) uf.unite(el(in0, c), el(out0, c * hw + p));
        break;
      }
      case ChannelRule::Pin:
      case ChannelRule::Undeclared:
        pinNode(n);
        break;
    }
    if (!options.pinnedScopes.empty() && scopeMatchesAny(n.scope, options.pinnedScopes)) pinNode(n);
    if (!options.protectedScopes.empty() && scopeMatchesAny(n.scope, options.protectedScopes))
      for (ValueId v : n.outputs) pin(v);
  }
  for (ValueId v : graph.inputs()) pin(v);
  for (ValueId v : graph.outputs()) pin(v);

  // Components: their source sets and pinned flags.
  std::map<int64_t, std::vector<NodeId>> sourcesOf;  // root -> sorted source nodes
  for (const auto& [node, value] : sources)
    for (int64_t c = 0; c < m_count[value]; ++c) {
      auto& s = sourcesOf[uf.find(el(value, c))];
      if (s.empty() || s.back() != node) s.push_back(node);
    }
  std::map<int64_t, bool> rootPinned;
  for (int64_t e = 0; e < total; ++e)
    if (pinned[e]) rootPinned[uf.find(e)] = true;

  // Groups keyed by source set; channels numbered in the first source's order.
  std::map<std::vector<NodeId>, int> groupOfKey;
  std::map<int64_t, std::pair<int, int64_t>> rootSlot;  // root -> (group, channel)
  m_sourceGroup.assign(graph.nodes().size(), -1);
  for (const auto& [node, value] : sources) {
    for (int64_t c = 0; c < m_count[value]; ++c) {
      const int64_t root = uf.find(el(value, c));
      const auto& key = sourcesOf[root];
      if (key.front() != node || rootSlot.count(root)) continue;
      auto it = groupOfKey.find(key);
      if (it == groupOfKey.end()) {
        Group g;
        g.id = static_cast<int>(m_groups.size());
        g.name = graph.node(node).name;
        g.sources = key;
        m_groups.push_back(std::move(g));
        it = groupOfKey.emplace(key, m_groups.back().id).first;
      }
      Group& g = m_groups[it->second];
      rootSlot[root] = {g.id, g.size++};
      g.pinned.push_back(rootPinned.count(root) != 0);
    }
    if (m_count[value] > 0) {
      const auto slot = rootSlot.find(uf.find(el(value, 0)));
      if (slot != rootSlot.end()) m_sourceGroup[node] = slot->second.first;
    }
  }
  m_elementGroup.assign(static_cast<size_t>(total), -1);
  m_elementChannel.assign(static_cast<size_t>(total), -1);
  for (int64_t e = 0; e < total; ++e) {
    auto it = rootSlot.find(uf.find(e));
    if (it == rootSlot.end()) continue;
    m_elementGroup[e] = it->second.first;
    m_elementChannel[e] = it->second.second;
  }
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
    const auto dimsFn = opSpec(n.op).channelDims;
    if (!dimsFn) continue;
    for (const TensorChannelDims& d : dimsFn(n)) {
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
