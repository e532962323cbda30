#pragma once
// What an ONNX import converter (registered by the op families, ops/*_ops.cpp, keyed by
// ONNX op type) works with: a read-only view of one ONNX node and the importer's state
// (values known so far, the graph being built, the file's opset and batch). The driver
// (io/onnx_import.cpp) walks the file, evaluates constant subgraphs, applies fusions and
// PruneLab's own tags, and calls the converter for every other node.
// No protobuf here: family files see names, attributes and tensors only.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace onnx {
class NodeProto;
class GraphProto;
}  // namespace onnx

namespace prunelab {

class OnnxNodeView {
 public:
  OnnxNodeView(const onnx::NodeProto& proto, int index) : m_proto(&proto), m_index(index) {}
  const std::string& opType() const;
  const std::string& name() const;
  int index() const { return m_index; }  // position in the file's node list
  int inputCount() const;
  const std::string& input(int i) const;
  bool hasInput(int i) const;  // present and not the empty name
  int outputCount() const;
  const std::string& output(int i) const;

  bool hasAttr(const std::string& name) const;
  int64_t attrInt(const std::string& name, int64_t fallback) const;
  double attrFloat(const std::string& name, double fallback) const;
  std::string attrString(const std::string& name, const std::string& fallback) const;
  std::optional<std::vector<int64_t>> attrInts(const std::string& name) const;
  std::optional<std::vector<double>> attrFloats(const std::string& name) const;
  // A tensor attribute (Constant's and ConstantOfShape's value); undefined when missing.
  at::Tensor attrTensor(const std::string& name, const std::string& file) const;

  const onnx::NodeProto& proto() const { return *m_proto; }

 private:
  const onnx::NodeProto* m_proto;
  int m_index;
};

// A value of the file: a graph value, or a tensor known at import (an initializer, a
// folded constant subgraph).
struct OnnxRef {
  ValueId id = -1;
  at::Tensor constant;
  bool isConst() const { return constant.defined(); }
};

class OnnxImportContext {
 public:
  OnnxImportContext(std::string path, const onnx::GraphProto& graph, int64_t opset)
      : m_path(std::move(path)), m_gp(&graph), m_opset(opset) {}

  const std::string& path() const { return m_path; }
  int64_t opset() const { return m_opset; }
  Graph& graph() { return m_graph; }

  // --- values ----------------------------------------------------------------------------------
  OnnxRef& ref(const std::string& name, const std::string& what);
  bool isConst(const std::string& name) const;
  // Input i of `n`, which must be known at import (throws naming the node).
  const at::Tensor& constInput(const OnnxNodeView& n, int i);
  // The graph value for `name`; a constant becomes a Constant node (once).
  ValueId valueOf(const std::string& name, const std::string& user);
  const Shape& shapeOf(const std::string& name, const OnnxNodeView& user);
  void setConst(const OnnxNodeView& n, int output, at::Tensor t);
  void setValue(const OnnxNodeView& n, int output, ValueId v);
  bool allInputsConst(const OnnxNodeView& n) const;

  // --- building ----------------------------------------------------------------------------------
  // Adds an IR node and infers its output shapes.
  NodeId addNode(OpKind op, const std::string& name, const std::vector<ValueId>& inputs, Attributes attrs = {},
                 std::vector<NamedTensor> tensors = {}, int outputs = 1, const std::string& scope = {});
  // A one-output IR node for `n` consuming its first `inputs` ONNX inputs.
  void simple(const OnnxNodeView& n, OpKind op, Attributes attrs = {}, int inputs = 1);
  // The module scope: from the weight's initializer name, else PyTorch's node name.
  std::string scopeFor(const OnnxNodeView& n, const std::string& weightName = {}) const;
  [[noreturn]] void unsupported(const OnnxNodeView& n, const std::string& why = {}) const;
  // Axes of Unsqueeze/Squeeze/ReduceMean: an attribute before opset 13 (18 for reduce), an input after.
  std::vector<int64_t> axesOf(const OnnxNodeView& n);

  // --- what the driver found before the walk -----------------------------------------------------
  // Static batch size of the file's inputs (-1: dynamic).
  int64_t fileBatch() const { return m_batch; }
  bool dynamicBatch() const { return m_dynamicBatch; }
  // How many nodes (or graph outputs) read an ONNX value.
  size_t readers(const std::string& value) const;
  // The Pad node fused into this AveragePool, if any.
  std::optional<OnnxNodeView> padBefore(const OnnxNodeView& pool) const;
  // An output (a training-mode BN statistic) no one may read.
  void mustBeUnused(const std::string& value) { m_unusedOutputs.insert(value); }

 private:
  friend class OnnxImporter;
  std::string m_path;
  const onnx::GraphProto* m_gp;
  int64_t m_opset;
  int64_t m_batch = -1;
  bool m_dynamicBatch = false;
  Graph m_graph;
  std::map<std::string, OnnxRef> m_refs;
  std::map<int, int> m_padBefore;                   // AveragePool index -> Pad index
  std::map<std::string, std::vector<int>> m_users;  // ONNX value -> reading node indices (-1: graph output)
  std::set<std::string> m_unusedOutputs;
};

// ONNX value helpers shared by converters.
std::vector<int64_t> onnxInts(const at::Tensor& t);
// The shape after ONNX Unsqueeze (1s inserted at `axes` of the result) or Squeeze (the
// size-1 `axes` dropped; none given: every size-1 dim from `first` on). `axes` comes back
// normalised (non-negative).
Shape squeezedShape(Shape s, std::vector<int64_t>& axes, bool unsqueeze, size_t first = 0);

}  // namespace prunelab
