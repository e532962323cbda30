#pragma once
// Channel dependencies of a Graph: which channels must be removed together.
//
// Every (value, channel) pair is an element. Each op's ChannelRule (ops/op_table.h)
// joins elements: BN/activations/pooling pass channel c through, Add/Mul tie their
// inputs, Concat and Split map offsets, depthwise convs tie in and out, Flatten maps
// channel c to features [c*HW, (c+1)*HW). Conv and Linear outputs are *sources*: they
// create channels. A connected set of elements is one prunable channel; channels whose
// elements come from the same set of sources form a Group (e.g. all channels of a
// residual stage: its convs' outputs are tied through the Adds).
// Channels touching graph inputs/outputs, ops without a rule, unsupported grouped
// convs are pinned: never pruned. A Reshape that flattens [N, C, H, W] to [N, C*H*W]
// (PyTorch's `x.view(x.size(0), -1)` as ONNX exports it) maps channels like Flatten.
// Users pin more in two ways: a *protected* scope keeps its own output channels (the
// channels its nodes produce; what feeds it may still shrink, as Torch-Pruning's
// ignored_layers), a *pinned* scope keeps every channel its nodes read or write.
//
// The analysis is a snapshot of the graph it was built from; rebuild after surgery.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

// One tensor slice a group's channels map to.
struct GroupMember {
  NodeId node = -1;
  std::string tensor;  // "weight", "bias", "running_mean", ...
  int dim = 0;
  bool isOutput = true;  // indexed by the node's output channels (else its input channels)
  // indices[k]: the positions along `dim` that group channel k owns (several for a
  // Linear after Flatten: one per spatial position).
  std::vector<std::vector<int64_t>> indices;
};

struct Group {
  int id = -1;
  std::string name;               // the first source node's name
  std::vector<NodeId> sources;    // Conv/Linear nodes whose outputs create these channels
  int64_t size = 0;               // channels
  std::vector<bool> pinned;       // per channel
  bool prunable() const;          // some channel is not pinned
  int64_t prunableCount() const;
};

class DependencyGraph {
 public:
  struct Options {
    std::vector<std::string> protectedScopes;  // scope patterns whose output channels are kept
    std::vector<std::string> pinnedScopes;     // scope patterns whose input and output channels are kept
    // A channel-axis Split into two equal halves (ultralytics' C2f/C3k2 `chunk(2, 1)`,
    // C2PSA's `split((c, c), 1)`): Tie couples channel k of one half with channel k of the
    // other, so every plan keeps the halves equal, as that code needs; Free prunes them
    // apart. Auto ties them for ultralytics-family models (metadata yolo_style "dfl").
    enum class SplitHalves { Auto, Tie, Free };
    SplitHalves splitHalves = SplitHalves::Auto;
  };

  // Keeps a share() of `graph` (its structure, its tensors shared), so the analysis stays
  // valid whatever happens to the caller's Graph object; shapes must be inferred.
  explicit DependencyGraph(const Graph& graph, const Options& options);
  explicit DependencyGraph(const Graph& graph) : DependencyGraph(graph, Options{}) {}

  const Graph& graph() const { return m_graph; }
  const std::vector<Group>& groups() const { return m_groups; }
  // The group that `node` (a source) creates channels in, or -1.
  int groupOfSource(NodeId node) const;
  // Group and group-channel of (value, channel), or {-1, -1} for untracked/pinned origins.
  std::pair<int, int64_t> locate(ValueId value, int64_t channel) const;
  // Every tensor slice that loses group channel k when it is pruned.
  std::vector<GroupMember> members(int group) const;

  // For each value, the channels kept when `removed[g]` channels of group g are pruned
  // (an empty vector for values without a channel dimension).
  std::vector<std::vector<int64_t>> keptChannels(const std::vector<std::vector<int64_t>>& removed) const;

  int64_t channelCount(ValueId v) const { return m_count[v]; }

 private:
  Graph m_graph;  // share() of the analysed graph: cannot dangle
  std::vector<int64_t> m_base;   // first element of each value
  std::vector<int64_t> m_count;  // channels of each value (0: no channel dim)
  std::vector<int> m_elementGroup;       // element -> group (-1: none)
  std::vector<int64_t> m_elementChannel; // element -> channel within its group
  std::vector<Group> m_groups;
  std::vector<int> m_sourceGroup;        // node -> group of its output channels
};

}  // namespace prunelab
