#include "train/targeted_sparsity.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "analysis/shape_inference.h"
#include "graph/input_shape.h"
#include "ops/op_table.h"
#include "pruning/dependency_graph.h"
#include "pruning/planner.h"
#include "util/error.h"

namespace prunelab {

namespace {

// The gamma of a channel normalisation node (a target: its scale is a group member).
const at::Tensor& scaleOf(const Graph& graph, NodeId node) {
  const Node& n = graph.node(node);
  return n.tensor(normScale(n.op));
}

}  // namespace

TargetedSparsity::TargetedSparsity(const Graph& graph, double percent) : m_percent(percent) {
  if (!(percent > 0.0 && percent < 1.0))
    throw Error("--sr-targeted", "must be a fraction in (0, 1), got " + std::to_string(percent));
  Graph shaped = graph.share();  // its own shapes; the tensors are the model's
  inferShapes(shaped, defaultInputShape(shaped));
  m_deps = std::make_unique<DependencyGraph>(shaped);
  m_bn.resize(m_deps->groups().size());
  for (const Group& g : m_deps->groups())
    for (const GroupMember& m : m_deps->members(g.id))
      if (isNormScale(shaped.node(m.node).op, m.tensor)) m_bn[g.id].push_back({m.node, m.indices});
}

TargetedSparsity::~TargetedSparsity() = default;

std::vector<std::pair<NodeId, at::Tensor>> TargetedSparsity::masks(const Graph& graph) const {
  at::NoGradGuard noGrad;
  // bn importance as `prune --criterion bn` computes it: a group channel's summed |gamma|.
  std::vector<std::vector<double>> scores(m_bn.size());
  std::vector<at::Tensor> gammas(graph.nodes().size());
  for (const Group& g : m_deps->groups()) {
    if (m_bn[g.id].empty()) {
      scores[g.id].assign(static_cast<size_t>(g.size), std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    scores[g.id].assign(static_cast<size_t>(g.size), 0.0);
    for (const BnSlice& b : m_bn[g.id]) {
      at::Tensor& gamma = gammas[static_cast<size_t>(b.node)];
      if (!gamma.defined()) gamma = scaleOf(graph, b.node).detach().abs().to(at::kCPU, at::kFloat).contiguous();
      const float* p = gamma.data_ptr<float>();
      for (size_t k = 0; k < b.indices.size(); ++k)
        for (int64_t i : b.indices[k]) scores[g.id][k] += p[i];
    }
  }
  PlanConstraints c;
  c.normalize = ScoreNormalization::None;  // as bn ranks a global percent
  const PrunePlan plan = planGlobalPercent(*m_deps, scores, m_percent, c);
  std::vector<at::Tensor> mask(graph.nodes().size());
  for (const Group& g : m_deps->groups())
    for (const BnSlice& b : m_bn[g.id])
      for (int64_t k : plan.removed[g.id]) {
        at::Tensor& m = mask[static_cast<size_t>(b.node)];
        if (!m.defined()) m = at::zeros({scaleOf(graph, b.node).numel()}, at::kFloat);
        float* p = m.data_ptr<float>();
        for (int64_t i : b.indices[static_cast<size_t>(k)]) p[i] = 1.0f;
      }
  std::vector<std::pair<NodeId, at::Tensor>> out;
  for (size_t id = 0; id < mask.size(); ++id)
    if (mask[id].defined()) out.emplace_back(static_cast<NodeId>(id), mask[id]);
  return out;
}

void applyMaskedBnL1(Graph& graph, const std::vector<std::pair<NodeId, at::Tensor>>& masks, double sr, double srBeta) {
  if (sr == 0.0) return;
  at::NoGradGuard noGrad;
  for (const auto& [id, mask] : masks) {
    Node& n = graph.node(id);
    for (const bool scale : {true, false}) {
      const std::string& name = scale ? normScale(n.op) : normShift(n.op);
      const double coefficient = scale ? sr : sr * srBeta;
      if (coefficient == 0.0 || name.empty() || !n.hasTensor(name)) continue;
      at::Tensor& t = n.tensor(name);
      if (!t.grad().defined()) continue;
      const at::Tensor m = mask.to(t.device(), t.scalar_type()).view(t.sizes());
      t.mutable_grad().add_(t.sign() * m, coefficient);
    }
  }
}

}  // namespace prunelab
