#pragma once
// What an op's ONNX export form (OpSpec::onnxExport) writes with. The exporter
// (io/onnx_export) walks the graph, makes one OnnxEmitter per IR node and calls the
// node's form; the form adds standard ONNX nodes and initializers. Everything a form
// adds belongs to that IR node: the exporter tags the first ONNX node with the IR node
// (op, name, scope, attrs, tensors) so importOnnx() rebuilds it exactly.
// No protobuf here: family files see names and handles only.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace onnx {
class NodeProto;
}

namespace prunelab {

// One emitted ONNX node, for setting its attributes.
class OnnxNode {
 public:
  explicit OnnxNode(onnx::NodeProto* proto) : m_proto(proto) {}
  OnnxNode& attr(const std::string& name, int64_t v);
  OnnxNode& attr(const std::string& name, double v);
  OnnxNode& attr(const std::string& name, const std::string& v);
  OnnxNode& attr(const std::string& name, const std::vector<int64_t>& v);
  OnnxNode& addOutput(const std::string& name);
  std::string out() const;  // the first output's name

 private:
  onnx::NodeProto* m_proto;
};

class OnnxEmitter {
 public:
  virtual ~OnnxEmitter() = default;

  // The graph with shapes inferred at the export size.
  virtual const Graph& graph() const = 0;
  virtual int opset() const = 0;
  virtual bool dynamicBatch() const = 0;
  // ONNX value names of the node's inputs and outputs (the graph's value names).
  virtual const std::vector<std::string>& inputs() const = 0;
  virtual const std::vector<std::string>& outputs() const = 0;

  // Adds an ONNX node; `output` empty: a fresh intermediate name.
  virtual OnnxNode op(const std::string& type, const std::vector<std::string>& inputs, const std::string& output = {}) = 0;
  // One of the node's tensors as an initializer named by its state_dict key (recorded
  // in the tag). `transposed`: stored as t^T under key + ".T" (a batched Linear's W^T);
  // the tag records the transposition, so the import gets t back.
  virtual std::string param(const std::string& tensorName, const at::Tensor& t, bool transposed = false) = 0;
  // A helper initializer named "<node name>/<what>" (grids, shapes, scalars).
  virtual std::string constant(const at::Tensor& t, const std::string& what) = 0;
  std::string ints(const std::vector<int64_t>& v, const std::string& what);
  std::string floats(const std::vector<float>& v, const std::string& what);

  // Values left out of the file (an empty Split part only Concats read: OpenCV DNN 4.6
  // rejects empty slices); Concat skips them.
  virtual void omit(const std::string& value) = 0;
  virtual bool omitted(const std::string& value) const = 0;
};

}  // namespace prunelab
