#pragma once
// The graph IR: every importer builds one, the executor runs it, pruning rewrites it
// (into a new Graph), exporters write it.
//
// Contracts
// - Nodes are stored in topological order: addNode() only accepts inputs that exist.
// - A Value is produced by exactly one node (or is a graph input) and knows its consumers.
// - Node::scope is the PyTorch module path ("layer1.0.conv1"); a tensor's state_dict key
//   is scope + "." + tensor name ("layer1.0.conv1.weight"). Node::name is unique in the
//   graph (a module used twice, like torchvision's BasicBlock.relu, gets "relu", "relu_1").
// - The graph owns its tensors (shared at::Tensor handles). GraphModule registers the very
//   same tensors as parameters, so training updates the graph in place.
// - Copies are explicit: share() copies the structure and shares every tensor (a write
//   through one is seen by the other), clone() copies the tensors too, skeleton() keeps
//   only their shapes. The copy constructor is private so that no copy happens unseen.
// - structureId() names the structure (nodes, their wiring and channel counts): a new
//   graph, addInput/addNode and renewStructureId() (surgery) give a new one; share(),
//   clone(), skeleton() and training keep it. Front ends compare ids to know whether a
//   model change kept the structure.
// - Value shapes include the batch dimension and are filled by inferShapes().
// Not thread-safe: one thread (the worker) owns a Graph at a time.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/attributes.h"
#include "graph/op_kind.h"

namespace prunelab {

using Shape = std::vector<int64_t>;
using ValueId = int;
using NodeId = int;

std::string shapeToString(const Shape& s);  // "1x3x32x32"

struct Value {
  ValueId id = -1;
  std::string name;
  NodeId producer = -1;  // -1: a graph input
  std::vector<NodeId> consumers;
  Shape shape;  // empty until inferShapes()
};

struct NamedTensor {
  std::string name;  // "weight", "running_mean", ...
  at::Tensor tensor;
  bool isBuffer = false;  // buffers are state, not trainable parameters
};

struct Node {
  NodeId id = -1;
  OpKind op = OpKind::Identity;
  std::string name;   // unique in the graph
  std::string scope;  // PyTorch module path; prefix of this node's state_dict keys
  Attributes attrs;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::vector<NamedTensor> tensors;  // in PyTorch registration order (params, then buffers)

  bool hasTensor(const std::string& tensorName) const;
  // Throws prunelab::Error naming the node when the tensor is missing.
  const at::Tensor& tensor(const std::string& tensorName) const;
  at::Tensor& tensor(const std::string& tensorName);
  // Undefined tensor when missing (e.g. an optional bias).
  at::Tensor optionalTensor(const std::string& tensorName) const;
  std::string key(const std::string& tensorName) const;  // scope + "." + name
};

class Graph {
 public:
  Graph();
  Graph(Graph&&) noexcept = default;
  Graph& operator=(Graph&&) noexcept = default;
  ~Graph() = default;

  // Adds a graph input; `shape` includes the batch dimension (N, C, H, W).
  ValueId addInput(const std::string& name, Shape shape);
  // Appends a node consuming `inputs` and producing `numOutputs` new values.
  // `name` is made unique; `scope` defaults to it. Returns the node id.
  NodeId addNode(OpKind op, const std::string& name, const std::vector<ValueId>& inputs,
                 Attributes attrs = {}, std::vector<NamedTensor> tensors = {}, int numOutputs = 1,
                 const std::string& scope = {});
  void markOutput(ValueId v);

  const std::vector<Node>& nodes() const { return m_nodes; }
  std::vector<Node>& nodes() { return m_nodes; }
  const std::vector<Value>& values() const { return m_values; }
  std::vector<Value>& values() { return m_values; }
  const std::vector<ValueId>& inputs() const { return m_inputs; }
  const std::vector<ValueId>& outputs() const { return m_outputs; }

  const Node& node(NodeId id) const { return m_nodes.at(id); }
  Node& node(NodeId id) { return m_nodes.at(id); }
  const Value& value(ValueId id) const { return m_values.at(id); }
  Value& value(ValueId id) { return m_values.at(id); }
  // The single output of a node (throws if it has several).
  ValueId out(NodeId id) const;

  const Node* findNode(const std::string& name) const;
  // Nodes whose scope equals `scope` or lies below it ("layer1" -> "layer1.0.conv1", ...).
  std::vector<NodeId> nodesInScope(const std::string& scope) const;

  // state_dict view: key -> tensor, in node order. Shares storage with the graph.
  std::vector<std::pair<std::string, at::Tensor>> stateDict(bool includeBuffers = true) const;
  int64_t parameterCount() const;  // trainable parameters only (no buffers)

  // The same structure sharing every tensor with this graph (cheap: handles only).
  Graph share() const;
  // Deep copy (tensors cloned): the result shares nothing with this graph.
  Graph clone() const;
  // Structure only: every tensor replaced by a meta-device tensor of the same shape and
  // dtype (no storage). Shapes, counts, dependency analysis and cost estimates work on it,
  // so another thread (the GUI's what-if) can use it while the worker owns the real graph.
  Graph skeleton() const;

  uint64_t structureId() const { return m_structureId; }
  // Called by whoever changes channel counts or wiring in place (surgery).
  void renewStructureId();

  // Free-form metadata carried through checkpoints (model name, num_classes, task...).
  std::map<std::string, std::string>& metadata() { return m_metadata; }
  const std::map<std::string, std::string>& metadata() const { return m_metadata; }

 private:
  Graph(const Graph&) = default;  // share(), clone(), skeleton()
  Graph& operator=(const Graph&) = delete;
  std::string uniqueName(const std::string& base);

  std::vector<Node> m_nodes;
  std::vector<Value> m_values;
  std::vector<ValueId> m_inputs;
  std::vector<ValueId> m_outputs;
  std::set<std::string> m_usedNames;
  std::map<std::string, std::string> m_metadata;
  uint64_t m_structureId = 0;
};

}  // namespace prunelab
