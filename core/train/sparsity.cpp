#include "train/sparsity.h"

#include <ATen/ATen.h>

#include "graph/scope_pattern.h"
#include "ops/op_table.h"

namespace prunelab {

double effectiveSr(const SparsityOptions& o, double sr, int epoch, int epochs) {
  if (!o.linearDecay || epochs <= 0) return sr;
  return sr * (1.0 - 0.9 * double(epoch) / double(epochs));
}

std::vector<NodeId> sparsityTargets(const Graph& graph, const SparsityOptions& o) {
  std::vector<NodeId> r;
  for (const Node& n : graph.nodes())
    if (hasNormScale(n) && !scopeMatchesAny(n.scope, o.exclude)) r.push_back(n.id);
  return r;
}

std::vector<float> absGammas(const Graph& graph, const std::vector<NodeId>& targets) {
  at::NoGradGuard noGrad;
  std::vector<float> out;
  for (NodeId id : targets) {
    const Node& n = graph.node(id);
    const at::Tensor g = n.tensor(normScale(n.op)).detach().abs().to(at::kCPU, at::kFloat).contiguous();
    out.insert(out.end(), g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
  }
  return out;
}

void applyBnL1(Graph& graph, const std::vector<NodeId>& targets, double sr, double srBeta) {
  if (sr == 0.0) return;
  at::NoGradGuard noGrad;
  for (NodeId id : targets) {
    Node& n = graph.node(id);
    at::Tensor& g = n.tensor(normScale(n.op));
    if (g.grad().defined()) g.mutable_grad().add_(g.sign(), sr);
    const std::string& shift = normShift(n.op);
    if (srBeta != 0.0 && !shift.empty() && n.hasTensor(shift)) {
      at::Tensor& b = n.tensor(shift);
      if (b.grad().defined()) b.mutable_grad().add_(b.sign(), sr * srBeta);
    }
  }
}

}  // namespace prunelab
