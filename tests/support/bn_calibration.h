#pragma once
// BatchNorm statistics measured on data, for test models that are compared with another
// runtime (OpenCV DNN, TorchScript). A freshly built YOLO has identity BN statistics, and
// with PyTorch's default init its outputs then barely depend on the input (measured: they
// move by < 1e-5 when the input is replaced by zeros), so a comparison of two runtimes on
// it checks the biases only. C++ counterpart of tests/python/bn_calibration.py, without
// the perturbation: the comparisons here are between runtimes, not against a BN formula.

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "exec/graph_module.h"
#include "graph/graph.h"

namespace prunelab::test {

// Sets every BatchNorm's running statistics to the statistics of its input on `batch`
// (N >= 2), in forward order: one train-mode forward with momentum 1, so each BN sees the
// input the already calibrated BNs before it produce; then running_var *= gain.
// Measured on the pruned zoo YOLOs (test_interop): with gain 1 every output set moves by
// > 1e-2 relative when the input is zeroed; with gain 4 or 16 (and gamma 1, beta 0) the
// signal dies again with depth (< 4e-4). Parameters are not changed.
inline void calibrateBatchNorm(Graph& g, const at::Tensor& batch, double gain = 1.0) {
  std::vector<std::pair<Node*, double>> momenta;
  for (Node& n : g.nodes())
    if (n.op == OpKind::BatchNorm) {
      momenta.emplace_back(&n, n.attrs.getFloat("momentum", 0.1));
      n.attrs.set("momentum", 1.0);
    }
  {
    GraphModule m(std::make_shared<Graph>(g.share()));  // shares the tensors: the statistics land in g
    m->train();
    torch::NoGradGuard noGrad;
    m->forward(std::vector<at::Tensor>{batch});
  }
  torch::NoGradGuard noGrad;
  for (auto& [n, momentum] : momenta) {
    n->attrs.set("momentum", momentum);
    n->tensor("running_var").mul_(gain);
  }
}

}  // namespace prunelab::test
