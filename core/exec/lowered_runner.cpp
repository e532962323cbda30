#include "exec/lowered_runner.h"

#include <ATen/ATen.h>

#include "ops/op_table.h"
#include "passes/lowering.h"
#include "util/error.h"

namespace prunelab {

std::vector<at::Tensor> LoweredRunner::run(const Node& node, const std::vector<at::Tensor>& inputs, const OpContext& ctx) {
  std::vector<Shape> shapes;
  for (const at::Tensor& t : inputs) shapes.push_back(t.sizes().vec());
  const at::Device device = inputs.empty() ? at::Device(at::kCPU) : inputs.front().device();
  auto it = m_cache.find(node.id);
  if (it == m_cache.end() || it->second.shapes != shapes || it->second.device != device) {
    Fragment f{shapes, device, passes::lowerNode(node, shapes)};
    for (Node& n : f.graph.nodes())
      for (NamedTensor& t : n.tensors)
        if (t.tensor.device() != device) t.tensor = t.tensor.to(device);
    it = m_cache.insert_or_assign(node.id, std::move(f)).first;
  }
  const Graph& g = it->second.graph;
  std::vector<at::Tensor> values(g.values().size());
  for (size_t i = 0; i < inputs.size(); ++i) values[g.inputs()[i]] = inputs[i];
  OpContext inner;
  inner.training = ctx.training;
  inner.frozenBatchNorm = ctx.frozenBatchNorm;
  inner.crossReplicaSum = ctx.crossReplicaSum;
  std::vector<at::Tensor> args;
  for (const Node& n : g.nodes()) {
    args.clear();
    for (ValueId v : n.inputs) args.push_back(values[v]);
    std::vector<at::Tensor> out = opSpec(n.op).forward(n, args, inner);
    for (size_t i = 0; i < out.size(); ++i) values[n.outputs[i]] = std::move(out[i]);
  }
  std::vector<at::Tensor> result;
  for (ValueId v : g.outputs()) result.push_back(values[v]);
  return result;
}

}  // namespace prunelab
