#include "pruning/shape_fit.h"

#include <map>
#include <tuple>

#include "analysis/shape_inference.h"
#include "pruning/dependency_graph.h"
#include "pruning/surgery.h"
#include "util/error.h"

namespace prunelab {

namespace {

std::map<std::string, at::Tensor> byKey(const StateDict& sd) {
  std::map<std::string, at::Tensor> m;
  for (const auto& [k, t] : sd) m[k] = t;
  return m;
}

// One tensor dim: its size in the built graph and in the file, and the groups that index it.
struct Equation {
  std::string where;  // "model.2.cv1.conv.weight dim 0"
  int64_t built = 0;
  int64_t file = 0;
  std::map<int, int64_t> perChannel;  // group -> positions per channel
};

}  // namespace

bool shapesMatch(const Graph& graph, const StateDict& stateDict) {
  const auto file = byKey(stateDict);
  for (const Node& n : graph.nodes())
    for (const NamedTensor& t : n.tensors) {
      const auto it = file.find(n.key(t.name));
      if (it != file.end() && it->second.sizes() != t.tensor.sizes()) return false;
    }
  return true;
}

Graph fitToStateDict(const Graph& graph, const StateDict& stateDict, const std::string& source) {
  Graph work = graph.share();
  inferShapes(work, defaultInputShape(work));
  const DependencyGraph deps(work);
  const auto file = byKey(stateDict);

  std::map<std::tuple<NodeId, std::string, int>, Equation> equations;
  for (const Group& g : deps.groups()) {
    for (const GroupMember& m : deps.members(g.id)) {
      const Node& n = work.node(m.node);
      const auto it = file.find(n.key(m.tensor));
      if (it == file.end() || m.indices.empty() || it->second.dim() <= m.dim) continue;
      Equation& e = equations[{m.node, m.tensor, m.dim}];
      e.where = n.key(m.tensor) + " dim " + std::to_string(m.dim);
      e.built = n.tensor(m.tensor).size(m.dim);
      e.file = it->second.size(m.dim);
      e.perChannel[g.id] += static_cast<int64_t>(m.indices.front().size());
    }
  }

  std::map<int, int64_t> removed;  // group -> channels the file does not have
  for (bool progress = true; progress;) {
    progress = false;
    for (const auto& [key, e] : equations) {
      int64_t deficit = e.built - e.file;
      std::vector<int> unknown;
      for (const auto& [g, per] : e.perChannel) {
        const auto r = removed.find(g);
        if (r == removed.end()) unknown.push_back(g);
        else deficit -= r->second * per;
      }
      if (unknown.size() != 1) {
        if (unknown.empty() && deficit != 0)
          throw Error(source, "the widths of " + e.where + " (" + std::to_string(e.file) +
                                  ") do not follow from channel pruning of the model its yaml describes");
        continue;
      }
      const int g = unknown.front();
      const int64_t per = e.perChannel.at(g);
      const Group& group = deps.groups()[g];
      if (per <= 0 || deficit % per != 0 || deficit < 0 || deficit / per > group.prunableCount())
        throw Error(source, e.where + " has " + std::to_string(e.file) + " where the model built from its yaml has " +
                                std::to_string(e.built) + ": not a channel-pruned width of layer " + group.name);
      removed[g] = deficit / per;
      progress = true;
    }
  }
  for (const auto& [key, e] : equations)
    for (const auto& [g, per] : e.perChannel)
      if (!removed.count(g))
        throw Error(source, "cannot tell how many channels of layer " + deps.groups()[g].name + " " + e.where +
                                " keeps (the file's widths are ambiguous)");

  PrunePlan plan;
  plan.removed.resize(deps.groups().size());
  for (const auto& [g, count] : removed) {
    const Group& group = deps.groups()[g];
    auto& out = plan.removed[g];
    for (int64_t c = group.size - 1; c >= 0 && static_cast<int64_t>(out.size()) < count; --c)
      if (!group.pinned[c]) out.insert(out.begin(), c);
  }
  if (plan.empty()) return work;
  SurgeryOptions o;
  o.forwardCheck = false;  // the file's tensors replace these; the caller runs what it loads
  return withErrorContext(source, [&] { return applySurgery(deps, plan, o).graph; });
}

}  // namespace prunelab
