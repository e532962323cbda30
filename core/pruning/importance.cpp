#include "pruning/importance.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <random>

#include "exec/graph_module.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

namespace {

const std::vector<std::pair<std::string, Criterion>> kCriteria = {
    {"l1", Criterion::L1},       {"l2", Criterion::L2},         {"bn", Criterion::BnScale},
    {"activation", Criterion::Activation}, {"taylor", Criterion::Taylor},
    {"reconstruction", Criterion::Reconstruction}, {"random", Criterion::Random}};

// Per-channel sums of `perPosition` (a score per index along the member's dim).
std::vector<double> toChannels(const GroupMember& m, const at::Tensor& perPosition, int64_t groupSize) {
  const at::Tensor p = perPosition.to(at::kDouble).contiguous();
  const double* d = p.data_ptr<double>();
  std::vector<double> r(static_cast<size_t>(groupSize), 0.0);
  for (int64_t k = 0; k < groupSize; ++k)
    for (int64_t i : m.indices[k]) r[k] += d[i];
  return r;
}

void reduceInto(std::vector<double>& acc, const std::vector<double>& member, GroupReduction r, int count) {
  for (size_t k = 0; k < acc.size(); ++k) {
    if (r == GroupReduction::Max) acc[k] = count == 0 ? member[k] : std::max(acc[k], member[k]);
    else acc[k] += member[k];
  }
}

void finishReduction(std::vector<double>& acc, GroupReduction r, int count) {
  if (count == 0) std::fill(acc.begin(), acc.end(), std::numeric_limits<double>::quiet_NaN());
  else if (r == GroupReduction::Mean)
    for (auto& v : acc) v /= count;
}

// The tensors weight-magnitude criteria read: a channel source's weight and a channel
// normalisation's scale (gamma).
bool isWeightMember(const Graph& g, const GroupMember& m) {
  const OpKind op = g.node(m.node).op;
  return (m.tensor == "weight" && opSpec(op).isChannelSource) || isNormScale(op, m.tensor);
}

// [d0, d1, ...] -> [d0, d1] sums of |w| (p = 1) or w^2 (p = 2) over the trailing dims.
// A plain parallel loop: one read of the weights, no temporaries (ATen's reductions over
// a 3x3 inner dim are several times slower here).
at::Tensor reduceToMatrix(const at::Tensor& t, int p) {
  const at::Tensor w = t.dim() == 2 ? t : t.flatten(2);
  if (w.scalar_type() != at::kFloat || !w.device().is_cpu()) {
    const at::Tensor a = p == 1 ? w.abs() : w.pow(2);
    return w.dim() == 2 ? a : a.sum(2);
  }
  const at::Tensor c = w.contiguous();
  const int64_t rows = c.size(0) * c.size(1), inner = c.dim() == 3 ? c.size(2) : 1;
  at::Tensor out = at::empty({c.size(0), c.size(1)}, c.options());
  const float* src = c.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* x = src + r * inner;
      float acc = 0.f;
      if (p == 1)
        for (int64_t i = 0; i < inner; ++i) acc += std::abs(x[i]);
      else
        for (int64_t i = 0; i < inner; ++i) acc += x[i] * x[i];
      dst[r] = acc;
    }
  });
  return out;
}

std::vector<std::vector<double>> weightNorms(const DependencyGraph& deps, int p, GroupReduction red,
                                             const std::vector<std::vector<GroupMember>>& members,
                                             const std::function<at::Tensor(const GroupMember&)>& tensorOf) {
  // Weights are reduced once to a [dim0, dim1] matrix of |w| or w^2 sums (one contiguous
  // pass); a member's per-position scores are that matrix summed over the other dim.
  std::map<std::pair<NodeId, std::string>, at::Tensor> reduced;
  auto perPosition = [&](const GroupMember& m) -> at::Tensor {
    const at::Tensor t = tensorOf(m);
    if (t.dim() == 1) return p == 1 ? t.abs() : t.pow(2);
    if (m.dim > 1) {  // a layout with channels past dim 1: reduce over every other dim
      std::vector<int64_t> others;
      for (int64_t d = 0; d < t.dim(); ++d)
        if (d != m.dim) others.push_back(d);
      return (p == 1 ? t.abs() : t.pow(2)).sum(others);
    }
    auto key = std::make_pair(m.node, m.tensor);
    auto it = reduced.find(key);
    if (it == reduced.end()) {
      it = reduced.emplace(key, reduceToMatrix(t, p)).first;
    }
    return it->second.sum(m.dim == 0 ? 1 : 0);
  };
  std::vector<std::vector<double>> scores;
  for (const Group& g : deps.groups()) {
    std::vector<double> acc(static_cast<size_t>(g.size), 0.0);
    int count = 0;
    for (const GroupMember& m : members[g.id]) {
      if (!isWeightMember(deps.graph(), m)) continue;
      auto s = toChannels(m, perPosition(m), g.size);
      if (p == 2)
        for (auto& v : s) v = std::sqrt(v);
      reduceInto(acc, s, red, count++);
    }
    finishReduction(acc, red, count);
    scores.push_back(std::move(acc));
  }
  return scores;
}

// The values whose channels stand for a group in activation statistics: the outputs
// of activation ops in the group, else of its sources.
std::vector<std::vector<ValueId>> representativeValues(const DependencyGraph& deps) {
  const Graph& g = deps.graph();
  std::vector<std::vector<ValueId>> acts(deps.groups().size()), srcs(deps.groups().size());
  for (const Node& n : g.nodes()) {
    const bool act = opSpec(n.op).isActivation;
    for (ValueId v : n.outputs) {
      if (deps.channelCount(v) == 0) continue;
      const int grp = deps.locate(v, 0).first;
      if (grp < 0) continue;
      if (act) acts[grp].push_back(v);
      if (deps.groupOfSource(n.id) == grp) srcs[grp].push_back(v);
    }
  }
  for (size_t i = 0; i < acts.size(); ++i)
    if (acts[i].empty()) acts[i] = srcs[i];
  return acts;
}

std::vector<std::vector<double>> activationScores(const DependencyGraph& deps, const ImportanceOptions& o) {
  if (o.calibration.empty()) throw Error("activation criterion", "needs calibration batches (--calib)");
  Graph copy = deps.graph().share();  // the module below does not change the tensors
  GraphModule module(std::shared_ptr<Graph>(&copy, [](Graph*) {}));
  module->eval();
  torch::NoGradGuard noGrad;
  const auto reps = representativeValues(deps);
  std::vector<ValueId> capture;
  for (const auto& r : reps) capture.insert(capture.end(), r.begin(), r.end());
  std::vector<at::Tensor> sums(capture.size());
  int64_t samples = 0;
  for (const auto& batch : o.calibration) {
    const auto vals = module->capture({batch}, capture);
    for (size_t i = 0; i < vals.size(); ++i) {
      at::Tensor m = vals[i].abs();
      m = m.dim() == 4 ? m.sum({0, 2, 3}) : m.sum(0);
      sums[i] = sums[i].defined() ? sums[i] + m : m;
    }
    samples += batch.size(0);
  }
  std::vector<std::vector<double>> scores;
  size_t next = 0;
  for (const Group& g : deps.groups()) {
    std::vector<double> acc(static_cast<size_t>(g.size), 0.0);
    int count = 0;
    for (ValueId v : reps[g.id]) {
      const at::Tensor mean = (sums[next++] / double(std::max<int64_t>(samples, 1))).to(at::kDouble).contiguous();
      std::vector<double> s(static_cast<size_t>(g.size), 0.0);
      for (int64_t c = 0; c < deps.channelCount(v); ++c) {
        const auto [grp, k] = deps.locate(v, c);
        if (grp == g.id) s[k] += mean.data_ptr<double>()[c];
      }
      reduceInto(acc, s, o.reduction, count++);
    }
    finishReduction(acc, o.reduction, count);
    scores.push_back(std::move(acc));
  }
  return scores;
}

std::vector<std::vector<double>> taylorScores(const DependencyGraph& deps, const ImportanceOptions& o,
                                              const std::vector<std::vector<GroupMember>>& members) {
  if (o.calibration.empty()) throw Error("taylor criterion", "needs calibration batches (--calib)");
  // Gradients accumulate on private tensors.
  auto module = GraphModule(std::make_shared<Graph>(deps.graph().clone()));
  module->eval();  // BN statistics stay fixed: the gradient of the deployed function
  module->zero_grad();
  for (size_t b = 0; b < o.calibration.size(); ++b) {
    const auto outs = module->forward(std::vector<at::Tensor>{o.calibration[b]});
    if (o.loss) {
      o.loss(outs, b).backward();
    } else if (outs.size() == 1 && outs[0].dim() == 2) {
      // Classifier: cross-entropy against the labels, or the model's own predictions.
      at::Tensor labels = b < o.labels.size() ? o.labels[b] : outs[0].detach().argmax(1);
      torch::nn::functional::cross_entropy(outs[0], labels).backward();
    } else {
      // Other heads without a task loss here: the energy of the outputs.
      at::Tensor loss = at::zeros({});
      for (const auto& y : outs) loss = loss + y.pow(2).mean();
      loss.backward();
    }
  }
  const Graph& g = module->graph();
  auto wg = [&](const GroupMember& m) {
    const at::Tensor& t = g.node(m.node).tensor(m.tensor);
    return t.grad().defined() ? (t.detach() * t.grad()) : at::zeros_like(t);
  };
  std::vector<std::vector<double>> scores;
  for (const Group& grp : deps.groups()) {
    std::vector<double> acc(static_cast<size_t>(grp.size), 0.0);
    int count = 0;
    for (const GroupMember& m : members[grp.id]) {
      if (!isWeightMember(deps.graph(), m)) continue;
      at::Tensor prod = wg(m);
      std::vector<int64_t> dims;
      for (int64_t d = 0; d < prod.dim(); ++d)
        if (d != m.dim) dims.push_back(d);
      at::Tensor perPos = dims.empty() ? prod : prod.sum(dims);
      auto s = toChannels(m, perPos, grp.size);
      for (auto& v : s) v = std::abs(v);
      reduceInto(acc, s, o.reduction, count++);
    }
    finishReduction(acc, o.reduction, count);
    scores.push_back(std::move(acc));
  }
  return scores;
}

// Conv's arithmetic is redone below as a grouped conv2d (by kind: it is conv2d's formula,
// not a layout), and a 2-D weight's as a matrix product; the weights' layout is the table's.
bool hasEnergyForm(const Node& n) {
  if (n.op == OpKind::Conv) return channelGrouping(n) == ChannelGrouping::Dense;
  return opSpec(n.op).isChannelSource && n.tensor("weight").dim() == 2;
}

// Energy that each input channel contributes to each consumer's output, per channel:
// E ||conv(x_c, W[:, c])||^2, computed for all channels at once as a grouped conv.
std::vector<std::vector<double>> reconstructionScores(const DependencyGraph& deps, const ImportanceOptions& o,
                                                      const std::vector<std::vector<GroupMember>>& members) {
  if (o.calibration.empty()) throw Error("reconstruction criterion", "needs calibration batches (--calib)");
  const Graph& g = deps.graph();
  Graph copy = g.share();
  GraphModule module(std::shared_ptr<Graph>(&copy, [](Graph*) {}));
  module->eval();
  torch::NoGradGuard noGrad;
  // Consumers: the convolutions (groups 1) and matrix products whose weight's in dim a
  // group indexes; other channel sources have no energy form here and score nothing.
  std::vector<NodeId> consumers;
  for (const auto& ms : members)
    for (const auto& m : ms)
      if (!m.isOutput && m.tensor == "weight" && hasEnergyForm(g.node(m.node))) consumers.push_back(m.node);
  std::sort(consumers.begin(), consumers.end());
  consumers.erase(std::unique(consumers.begin(), consumers.end()), consumers.end());
  std::vector<ValueId> capture;
  for (NodeId n : consumers) capture.push_back(g.node(n).inputs[0]);
  std::map<NodeId, at::Tensor> energy;  // consumer -> per input position energy
  for (const auto& batch : o.calibration) {
    const auto ins = module->capture({batch}, capture);
    for (size_t i = 0; i < consumers.size(); ++i) {
      const Node& n = g.node(consumers[i]);
      // [O, I, ...] whatever the op stores.
      const at::Tensor w = toOutInLayout(n.op, "weight", n.tensor("weight").detach());
      const at::Tensor& x = ins[i];
      at::Tensor e;
      if (n.op == OpKind::Conv) {
        const int64_t c = w.size(1), out = w.size(0);
        // Weight for a grouped conv: group c maps input channel c to O outputs.
        const at::Tensor wg = w.transpose(0, 1).reshape({c * out, 1, w.size(2), w.size(3)});
        const at::Tensor y = at::conv2d(x, wg, {}, n.attrs.getInts("stride", {1, 1}), n.attrs.getInts("padding", {0, 0}),
                                        n.attrs.getInts("dilation", {1, 1}), c);
        e = y.pow(2).reshape({x.size(0), c, out, -1}).sum({0, 2, 3});
      } else {
        // Linear: contribution of feature f is x_f * W[:, f].
        e = (x.pow(2).sum(0)) * w.pow(2).sum(0);
      }
      energy[n.id] = energy.count(n.id) ? energy[n.id] + e : e;
    }
  }
  std::vector<std::vector<double>> scores;
  for (const Group& grp : deps.groups()) {
    std::vector<double> acc(static_cast<size_t>(grp.size), 0.0);
    int count = 0;
    for (const GroupMember& m : members[grp.id]) {
      if (m.isOutput || m.tensor != "weight" || !energy.count(m.node)) continue;
      reduceInto(acc, toChannels(m, energy[m.node], grp.size), o.reduction, count++);
    }
    finishReduction(acc, o.reduction, count);
    scores.push_back(std::move(acc));
  }
  return scores;
}

}  // namespace

Criterion parseCriterion(const std::string& name) {
  for (const auto& [n, c] : kCriteria)
    if (n == name) return c;
  std::string known;
  for (const auto& [n, c] : kCriteria) known += (known.empty() ? "" : ", ") + n;
  throw Error("criterion '" + name + "'", "unknown (known: " + known + ")");
}

std::string criterionName(Criterion c) {
  for (const auto& [n, k] : kCriteria)
    if (k == c) return n;
  return "?";
}

std::vector<std::string> criterionMenu() {
  std::vector<std::string> names{criterionName(Criterion::BnScale)};
  for (const auto& [n, c] : kCriteria)
    if (c != Criterion::BnScale) names.push_back(n);
  return names;
}

GroupReduction parseReduction(const std::string& name) {
  if (name == "sum") return GroupReduction::Sum;
  if (name == "mean") return GroupReduction::Mean;
  if (name == "max") return GroupReduction::Max;
  throw Error("reduction '" + name + "'", "unknown (sum, mean, max)");
}

bool needsCalibration(Criterion c) {
  return c == Criterion::Activation || c == Criterion::Taylor || c == Criterion::Reconstruction;
}

std::vector<std::vector<double>> computeImportance(const DependencyGraph& deps, const ImportanceOptions& o) {
  std::vector<std::vector<GroupMember>> members;
  if (o.criterion != Criterion::Random && o.criterion != Criterion::Activation)
    for (const Group& g : deps.groups()) members.push_back(deps.members(g.id));
  const Graph& graph = deps.graph();
  auto tensorOf = [&](const GroupMember& m) { return graph.node(m.node).tensor(m.tensor).detach(); };
  switch (o.criterion) {
    case Criterion::L1: return weightNorms(deps, 1, o.reduction, members, tensorOf);
    case Criterion::L2: return weightNorms(deps, 2, o.reduction, members, tensorOf);
    case Criterion::BnScale: {
      std::vector<std::vector<GroupMember>> bnOnly(members.size());
      for (size_t g = 0; g < members.size(); ++g)
        for (const auto& m : members[g])
          if (isNormScale(graph.node(m.node).op, m.tensor)) bnOnly[g].push_back(m);
      return weightNorms(deps, 1, o.reduction, bnOnly, tensorOf);
    }
    case Criterion::Activation: return activationScores(deps, o);
    case Criterion::Taylor: return taylorScores(deps, o, members);
    case Criterion::Reconstruction: return reconstructionScores(deps, o, members);
    case Criterion::Random: {
      std::mt19937_64 rng(o.seed);
      std::uniform_real_distribution<double> u(0.0, 1.0);
      std::vector<std::vector<double>> s;
      for (const Group& g : deps.groups()) {
        s.emplace_back(static_cast<size_t>(g.size));
        for (auto& v : s.back()) v = u(rng);
      }
      return s;
    }
  }
  return {};
}

}  // namespace prunelab
