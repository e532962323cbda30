#pragma once
// GraphModule: a torch::nn::Module that runs a Graph with autograd.
//
// - Parameters and buffers are registered under their state_dict keys, through a tree
//   of child modules mirroring the scopes ("layer1" -> "0" -> "conv1" -> weight), so
//   named_parameters() yields "layer1.0.conv1.weight" exactly as PyTorch does.
// - The registered tensors *are* the graph's tensors: optimizer steps and to(device)
//   update the Graph in place. The Graph must outlive the module and must not be
//   restructured while a module runs it (Surgery produces a new Graph instead).
// - forward() runs nodes in topological order; values are released after their last
//   use; activations overwrite their input in place when that is provably safe.
//   In training mode, inference-only ops (the YOLO decode) are skipped and their
//   outputs are undefined tensors. Composite ops run as their lowering's primitives.
// Thread affinity: the thread that owns the Graph (the worker).
//
// This header includes <torch/nn/module.h>: include it only where a module is needed.

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

#include "exec/lowered_runner.h"
#include "ops/op_table.h"
#include "graph/graph.h"

namespace prunelab {

class GraphModuleImpl : public torch::nn::Module {
 public:
  explicit GraphModuleImpl(std::shared_ptr<Graph> graph);

  // One tensor per graph input, in order; returns the graph outputs in order.
  std::vector<at::Tensor> forward(const std::vector<at::Tensor>& inputs);
  // Single input, single output.
  at::Tensor forward(const at::Tensor& input);
  // Runs the graph and returns the values listed in `capture` (in that order) instead
  // of the outputs. Nothing runs in place, so captured tensors are exactly the values.
  std::vector<at::Tensor> capture(const std::vector<at::Tensor>& inputs, const std::vector<ValueId>& capture);

  // Training-mode BatchNorm behaviour (see OpContext): frozen statistics, or statistics
  // summed over a data-parallel group by `sum` (SyncBN; null: this process's batch).
  void setFrozenBatchNorm(bool frozen) { m_frozenBatchNorm = frozen; }
  void setCrossReplicaSum(CrossReplicaSum sum) { m_crossReplicaSum = std::move(sum); }

  const Graph& graph() const { return *m_graph; }
  std::shared_ptr<Graph> sharedGraph() const { return m_graph; }

 private:
  void registerTensors();
  void planExecution();
  std::vector<at::Tensor> run(const std::vector<at::Tensor>& inputs, const std::vector<ValueId>* capture);

  std::shared_ptr<Graph> m_graph;
  // For each node, the values whose last consumer it is (freed after it runs).
  std::vector<std::vector<ValueId>> m_releaseAfter;
  // For each node: may its first input be overwritten in place?
  std::vector<bool> m_inPlaceOk;
  LoweredRunner m_lowered;  // composite nodes (the YOLO decode) as their primitives
  bool m_frozenBatchNorm = false;
  CrossReplicaSum m_crossReplicaSum;
};

TORCH_MODULE(GraphModule);

}  // namespace prunelab
