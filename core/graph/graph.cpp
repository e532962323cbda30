#include "graph/graph.h"

#include <atomic>

#include <ATen/ATen.h>

#include "util/error.h"

namespace prunelab {

std::string shapeToString(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r;
}

bool Node::hasTensor(const std::string& tensorName) const {
  for (const auto& t : tensors)
    if (t.name == tensorName) return true;
  return false;
}

const at::Tensor& Node::tensor(const std::string& tensorName) const {
  for (const auto& t : tensors)
    if (t.name == tensorName) return t.tensor;
  throw Error(name, "has no tensor '" + tensorName + "'");
}

at::Tensor& Node::tensor(const std::string& tensorName) {
  for (auto& t : tensors)
    if (t.name == tensorName) return t.tensor;
  throw Error(name, "has no tensor '" + tensorName + "'");
}

at::Tensor Node::optionalTensor(const std::string& tensorName) const {
  for (const auto& t : tensors)
    if (t.name == tensorName) return t.tensor;
  return {};
}

std::string Node::key(const std::string& tensorName) const {
  return scope.empty() ? tensorName : scope + "." + tensorName;
}

std::string Graph::uniqueName(const std::string& base) {
  std::string name = base;
  for (int k = 1; m_usedNames.count(name); ++k) name = base + "_" + std::to_string(k);
  m_usedNames.insert(name);
  return name;
}

ValueId Graph::addInput(const std::string& name, Shape shape) {
  Value v;
  v.id = static_cast<ValueId>(m_values.size());
  v.name = uniqueName(name);
  v.shape = std::move(shape);
  m_values.push_back(std::move(v));
  m_inputs.push_back(m_values.back().id);
  renewStructureId();
  return m_values.back().id;
}

NodeId Graph::addNode(OpKind op, const std::string& name, const std::vector<ValueId>& inputs,
                      Attributes attrs, std::vector<NamedTensor> tensors, int numOutputs,
                      const std::string& scope) {
  Node n;
  n.id = static_cast<NodeId>(m_nodes.size());
  n.op = op;
  n.name = uniqueName(name.empty() ? std::string(opKindName(op)) : name);
  n.scope = scope.empty() ? name : scope;
  n.attrs = std::move(attrs);
  n.tensors = std::move(tensors);
  for (ValueId in : inputs) {
    if (in < 0 || in >= static_cast<ValueId>(m_values.size()))
      throw Error(n.name, "input value " + std::to_string(in) + " does not exist");
    m_values[in].consumers.push_back(n.id);
  }
  n.inputs = inputs;
  for (int i = 0; i < numOutputs; ++i) {
    Value v;
    v.id = static_cast<ValueId>(m_values.size());
    v.name = numOutputs == 1 ? n.name : n.name + ":" + std::to_string(i);
    v.producer = n.id;
    n.outputs.push_back(v.id);
    m_values.push_back(std::move(v));
  }
  m_nodes.push_back(std::move(n));
  renewStructureId();
  return m_nodes.back().id;
}

void Graph::markOutput(ValueId v) {
  if (v < 0 || v >= static_cast<ValueId>(m_values.size())) throw Error("graph output", "value does not exist");
  m_outputs.push_back(v);
  renewStructureId();
}

ValueId Graph::out(NodeId id) const {
  const Node& n = node(id);
  if (n.outputs.size() != 1) throw Error(n.name, "has " + std::to_string(n.outputs.size()) + " outputs, not 1");
  return n.outputs[0];
}

const Node* Graph::findNode(const std::string& name) const {
  for (const auto& n : m_nodes)
    if (n.name == name) return &n;
  return nullptr;
}

std::vector<NodeId> Graph::nodesInScope(const std::string& scope) const {
  std::vector<NodeId> r;
  for (const auto& n : m_nodes)
    if (n.scope == scope || (n.scope.size() > scope.size() && n.scope.compare(0, scope.size(), scope) == 0 &&
                             n.scope[scope.size()] == '.'))
      r.push_back(n.id);
  return r;
}

std::vector<std::pair<std::string, at::Tensor>> Graph::stateDict(bool includeBuffers) const {
  std::vector<std::pair<std::string, at::Tensor>> r;
  for (const auto& n : m_nodes)
    for (const auto& t : n.tensors)
      if (includeBuffers || !t.isBuffer) r.emplace_back(n.key(t.name), t.tensor);
  return r;
}

int64_t Graph::parameterCount() const {
  int64_t count = 0;
  for (const auto& n : m_nodes)
    for (const auto& t : n.tensors)
      if (!t.isBuffer) count += t.tensor.numel();
  return count;
}

namespace {
// Process-wide, so that ids of different graphs never collide.
std::atomic<uint64_t> g_nextStructureId{1};
}  // namespace

Graph::Graph() : m_structureId(g_nextStructureId++) {}

void Graph::renewStructureId() { m_structureId = g_nextStructureId++; }

Graph Graph::share() const { return Graph(*this); }

Graph Graph::clone() const {
  Graph g(*this);
  for (auto& n : g.m_nodes)
    for (auto& t : n.tensors) t.tensor = t.tensor.detach().clone();
  return g;
}

Graph Graph::skeleton() const {
  Graph g(*this);
  for (auto& n : g.m_nodes)
    for (auto& t : n.tensors)
      if (t.tensor.defined())
        t.tensor = at::empty(t.tensor.sizes(), at::TensorOptions().dtype(t.tensor.scalar_type()).device(at::kMeta));
  return g;
}

}  // namespace prunelab
