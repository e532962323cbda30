#pragma once
// What an op's TorchScript form (OpSpec::torchScript) writes with. The exporter
// (io/torchscript_export) generates `forward` one IR node at a time; a form writes the
// statements computing the node's outputs from its inputs, with the same ATen ops as the
// executor. Tensors are the module tree's attributes, registered on first use.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

class ScriptEmitter {
 public:
  virtual ~ScriptEmitter() = default;

  // The graph with shapes inferred at the export size.
  virtual const Graph& graph() const = 0;
  // Variable names of the node's inputs; of any value.
  virtual const std::vector<std::string>& inputs() const = 0;
  virtual std::string var(ValueId v) const = 0;
  // "<output 0> = <expr>".
  virtual void assign(const std::string& expr) = 0;
  // Any statement (indented into forward's body).
  virtual void statement(const std::string& text) = 0;
  // "self.<module path>.<tensor>" for one of the node's tensors; "None" when an optional
  // one is missing.
  virtual std::string tensor(const Node& n, const std::string& name) = 0;
  std::string optionalTensor(const Node& n, const std::string& name);
  // An extra buffer on the node's module (decode grids fixed at the export size).
  virtual std::string buffer(const Node& n, const std::string& name, const at::Tensor& value) = 0;
};

// TorchScript literals: "[1, 2]"; the shortest float literal that reads back exactly.
std::string scriptList(const std::vector<int64_t>& v);
std::string scriptNum(double v);

}  // namespace prunelab
