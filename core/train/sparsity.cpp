#include "train/sparsity.h"

#include <ATen/ATen.h>

#include "graph/scope_pattern.h"

namespace prunelab {

double effectiveSr(const SparsityOptions& o, double sr, int epoch, int epochs) {
  if (!o.linearDecay || epochs <= 0) return sr;
  return sr * (1.0 - 0.9 * double(epoch) / double(epochs));
}

std::vector<NodeId> sparsityTargets(const Graph& graph, const SparsityOptions& o) {
  std::vector<NodeId> r;
  for (const Node& n : graph.nodes())
    if (n.op == OpKind::BatchNorm && n.hasTensor("weight") && !scopeMatchesAny(n.scope, o.exclude)) r.push_back(n.id);
  return r;
}

std::vector<float> absGammas(const Graph& graph, const std::vector<NodeId>& targets) {
  at::NoGradGuard noGrad;
  std::vector<float> out;
  for (NodeId id : targets) {
    const at::Tensor g = graph.node(id).tensor("weight").detach().abs().to(at::kCPU, at::kFloat).contiguous();
    out.insert(out.end(), g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
  }
  return out;
}

void applyBnL1(Graph& graph, const std::vector<NodeId>& targets, double sr, double srBeta) {
  if (sr == 0.0) return;
  at::NoGradGuard noGrad;
  for (NodeId id : targets) {
    Node& n = graph.node(id);
    at::Tensor& g = n.tensor("weight");
    if (g.grad().defined()) g.mutable_grad().add_(g.sign(), sr);
    if (srBeta != 0.0 && n.hasTensor("bias")) {
      at::Tensor& b = n.tensor("bias");
      if (b.grad().defined()) b.mutable_grad().add_(b.sign(), sr * srBeta);
    }
  }
}

}  // namespace prunelab
