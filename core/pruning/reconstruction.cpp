#include "pruning/reconstruction.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>

#include "exec/graph_module.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

namespace {

// Above this many columns the normal equations alone would take > 0.5 GB (a Linear after a
// large Flatten, such as VGG's first classifier layer): such a consumer keeps its sliced
// weights and the report says why.
constexpr int64_t kMaxColumns = 8192;
// Rows of A turned into double at a time: bounds the transient copy (2048 x 8192 x 8 B).
constexpr int64_t kRowChunk = 2048;

struct Consumer {
  NodeId node = -1;          // in the pruned graph
  ValueId originalOut = -1;  // its output in the original graph
  at::Tensor keptOut;        // kept output channels (original indices), int64
  NodeId bn = -1;            // the BatchNorm taking its fitted offset (biasTarget "<bn>.running_mean")
  bool fitBias = false;
  ConsumerRefit report;
  std::vector<at::Tensor> rows;     // per batch: sampled row indices into the patch rows
  std::vector<at::Tensor> targets;  // per batch: [rows, C_out'] outputs of the unpruned model
};

// Rows of A for one consumer: a Conv's input patches [N * L, C k_h k_w] (row n * L + l is
// output position l of image n), a Linear's input [N, F]. Conv by kind: im2col is
// conv2d's arithmetic (consumerNote keeps other channel sources out).
at::Tensor patchRows(const Node& n, const at::Tensor& x) {
  if (n.op != OpKind::Conv) return x.reshape({x.size(0), -1});
  const at::Tensor w = toOutInLayout(n.op, "weight", n.tensor("weight"));
  const at::Tensor cols = at::im2col(x, {w.size(2), w.size(3)}, n.attrs.getInts("dilation", {1, 1}),
                                     n.attrs.getInts("padding", {0, 0}), n.attrs.getInts("stride", {1, 1}));
  return cols.transpose(1, 2).reshape({-1, cols.size(1)});  // [N, D, L] -> [N * L, D]
}

// Output rows matching patchRows: [N, C, H, W] -> [N * H * W, C]; [N, C] unchanged.
at::Tensor outputRows(const at::Tensor& y) {
  if (y.dim() == 2) return y;
  return y.flatten(2).transpose(1, 2).reshape({-1, y.size(1)});
}

at::Tensor sampleRows(int64_t total, int64_t wanted, std::mt19937_64& rng) {
  std::vector<int64_t> idx(static_cast<size_t>(total));
  std::iota(idx.begin(), idx.end(), 0);
  const int64_t k = std::min(total, wanted);
  for (int64_t i = 0; i < k; ++i) {  // partial Fisher-Yates: the first k are a uniform sample
    std::uniform_int_distribution<int64_t> pick(i, total - 1);
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(pick(rng))]);
  }
  idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  return torch::tensor(idx, torch::kLong);
}

// Output channels of a channel source's weight (its layout's out dim).
int64_t outChannelsOf(const Node& n) { return n.tensor("weight").size(outChannelDim(n.op, "weight")); }

// Columns of one consumer's system (with the constant column when it fits a bias).
int64_t columnsOf(const Node& n, bool fitBias) {
  return n.tensor("weight").numel() / outChannelsOf(n) + (fitBias ? 1 : 0);
}

// Why consumer `n` (a channel source of the pruned graph) cannot be refitted, or "".
std::string consumerNote(const Graph& pruned, const Node& n) {
  if (channelGrouping(n) != ChannelGrouping::Dense)
    return "grouped convolution: it lost its own channels with its inputs, nothing to refit";
  if (n.op == OpKind::Conv) {
    if (n.attrs.getInts("padding", {0, 0}).size() != 2) return "asymmetric padding";
    return "";
  }
  const size_t rank = pruned.value(n.inputs[0]).shape.size();
  if (n.tensor("weight").dim() != 2) return std::string("no least-squares form for ") + opKindName(n.op);
  if (rank != 2) return std::string(opKindName(n.op)) + " on a " + std::to_string(rank) + "-D input";
  return "";
}

// Where a consumer's fitted constant goes: its bias, or the running mean of a BatchNorm
// that alone reads it (by kind, not the channel-norm trait: only a normalisation by
// running statistics has a mean to take the offset).
void chooseBiasTarget(const Graph& pruned, const Node& n, Consumer& c) {
  if (n.optionalTensor("bias").defined()) {
    c.fitBias = true;
    c.report.biasTarget = "bias";
    return;
  }
  const Value& y = pruned.value(n.outputs.at(0));
  if (y.consumers.size() == 1 && pruned.node(y.consumers[0]).op == OpKind::BatchNorm) {
    c.fitBias = true;
    c.bn = y.consumers[0];
    c.report.biasTarget = pruned.node(c.bn).name + ".running_mean";
  }
}

// The consumers of a cut: channel sources of `pruned` whose input width changed.
std::vector<Consumer> findConsumers(const DependencyGraph& deps, const PrunePlan& plan, const Graph& pruned) {
  const Graph& original = deps.graph();
  const auto kept = deps.keptChannels(plan.removed);
  std::vector<Consumer> out;
  for (const Node& n : pruned.nodes()) {
    if (!opSpec(n.op).isChannelSource) continue;
    const Node* o = original.findNode(n.name);
    if (!o || o->op != n.op) continue;
    const int inDim = inChannelDim(n.op, "weight");
    if (n.tensor("weight").size(inDim) == o->tensor("weight").size(inDim)) continue;  // its inputs were not cut
    Consumer c;
    c.node = n.id;
    c.originalOut = o->outputs.at(0);
    c.report.node = n.name;
    c.report.note = consumerNote(pruned, n);
    std::vector<int64_t> keptOut = kept.at(static_cast<size_t>(c.originalOut));
    if (keptOut.empty()) {  // no channel dimension tracked: every output kept
      keptOut.resize(static_cast<size_t>(outChannelsOf(*o)));
      std::iota(keptOut.begin(), keptOut.end(), 0);
    }
    if (c.report.note.empty() && static_cast<int64_t>(keptOut.size()) != outChannelsOf(n))
      c.report.note = "kept output channels do not match the pruned weight";
    c.keptOut = torch::tensor(keptOut, torch::kLong);
    chooseBiasTarget(pruned, n, c);
    c.report.columns = columnsOf(n, c.fitBias);
    if (c.report.note.empty() && c.report.columns > kMaxColumns)
      c.report.note = std::to_string(c.report.columns) + " inputs: above the " + std::to_string(kMaxColumns) +
                      " the normal equations are bounded to";
    out.push_back(std::move(c));
  }
  return out;
}

// Puts `value` in a node's tensor slot as a new tensor of the slot's shape, dtype and
// device: surgery shares the tensors it did not slice (a consumer's bias, the next BN's
// running_mean) with the graph before the cut, so writing into their storage would change
// that graph too.
void replaceTensor(at::Tensor& slot, const at::Tensor& value) {
  at::Tensor fresh = value.detach().to(slot.device(), slot.scalar_type()).reshape(slot.sizes()).clone();
  fresh.set_requires_grad(slot.requires_grad());
  slot = fresh;
}

// ||A theta - Y||^2 from the normal equations: tr(theta' G theta) - 2 tr(theta' H) + ||Y||^2.
double residual(const at::Tensor& G, const at::Tensor& H, double yy, const at::Tensor& theta) {
  return (theta * G.mm(theta)).sum().item<double>() - 2.0 * (theta * H).sum().item<double>() + yy;
}

void checkOptions(const ReconstructOptions& o) {
  if (o.calibration.empty()) throw Error("--reconstruct", "needs calibration batches (--calib)");
  if (!std::isfinite(o.ridge) || o.ridge < 0) throw Error("--reconstruct ridge", "must be finite and >= 0");
  if (o.samples < 0) throw Error("--reconstruct-samples", "must be >= 0");
}

// The device the pruned model's tensors live on (CPU for a model without tensors).
at::Device deviceOf(const Graph& g) {
  return g.nodes().empty() || g.nodes().front().tensors.empty() ? at::Device(at::kCPU)
                                                                 : g.nodes().front().tensors.front().tensor.device();
}

// One pass of the unpruned model per batch: every active consumer's output at its kept
// channels, sampled at random positions (the rows of Y).
void sampleTargets(const DependencyGraph& deps, const std::vector<Consumer*>& active, const ReconstructOptions& o,
                   at::Device device) {
  Graph original = deps.graph().share();  // read only
  GraphModule before(std::shared_ptr<Graph>(&original, [](Graph*) {}));
  before->eval();
  std::vector<ValueId> outs;
  for (Consumer* c : active) outs.push_back(c->originalOut);
  std::mt19937_64 rng(o.seed);
  const auto batches = static_cast<int64_t>(o.calibration.size());
  for (const at::Tensor& batch : o.calibration) {
    const auto ys = before->capture({batch.to(device)}, outs);
    for (size_t i = 0; i < active.size(); ++i) {
      Consumer& c = *active[i];
      const int64_t wanted = o.samples > 0 ? o.samples : std::max<int64_t>(4096, 4 * c.report.columns);
      const at::Tensor y = outputRows(ys[i].index_select(1, c.keptOut.to(device)));
      const at::Tensor rows = sampleRows(y.size(0), (wanted + batches - 1) / batches, rng);
      c.rows.push_back(rows);
      c.targets.push_back(y.index_select(0, rows.to(device)).to(at::kDouble));
    }
  }
}

// A^T A, A^T Y and ||Y||^2 of one consumer's system, in double.
struct NormalEquations {
  at::Tensor G, H;
  double yy = 0.0;
};

// Accumulates one consumer's system batch by batch, A from its input in the pruned model
// as refitted so far; frees the consumer's targets.
NormalEquations accumulate(GraphModule& after, const Node& n, Consumer& c, const ReconstructOptions& o, at::Device device) {
  const auto dbl = at::TensorOptions().dtype(at::kDouble).device(device);
  const int64_t cols = c.report.columns;
  NormalEquations eq{at::zeros({cols, cols}, dbl), at::zeros({cols, outChannelsOf(n)}, dbl), 0.0};
  for (size_t b = 0; b < o.calibration.size(); ++b) {
    const at::Tensor x = after->capture({o.calibration[b].to(device)}, {n.inputs[0]})[0];
    const at::Tensor rows = patchRows(n, x).index_select(0, c.rows[b].to(device));
    const at::Tensor& y = c.targets[b];
    for (int64_t r = 0; r < rows.size(0); r += kRowChunk) {
      const int64_t len = std::min(kRowChunk, rows.size(0) - r);
      at::Tensor a = rows.narrow(0, r, len).to(at::kDouble);
      if (c.fitBias) a = at::cat({a, at::ones({len, 1}, dbl)}, 1);
      eq.G.addmm_(a.t(), a);
      eq.H.addmm_(a.t(), y.narrow(0, r, len));
    }
    eq.yy += y.pow(2).sum().item<double>();
    c.report.samples += rows.size(0);
  }
  c.targets.clear();
  return eq;
}

// Solves the ridge system and writes the solution into the consumer's weight (and bias or
// BN running mean) when it lowers the error; the report says what happened either way.
void refit(Graph& pruned, Consumer& c, const NormalEquations& eq, double ridge) {
  Node& n = pruned.node(c.node);
  at::Tensor& w = n.tensor("weight");
  const at::Tensor outIn = toOutInLayout(n.op, "weight", w.detach());  // [O, I, ...]
  const int64_t cols = c.report.columns, outs = outIn.size(0), d0 = outIn.numel() / outs;
  const auto dbl = eq.G.options();
  // The sliced weights as a solution of the same system.
  at::Tensor old = outIn.reshape({outs, d0}).t().to(at::kDouble);
  if (c.fitBias) {
    const at::Tensor bias = c.bn < 0 ? n.tensor("bias").detach().to(at::kDouble) : at::zeros({outs}, dbl);
    old = at::cat({old, bias.reshape({1, -1})}, 0);
  }
  const double scale = std::max(eq.yy, 1e-30);
  c.report.errorBefore = c.report.errorAfter = residual(eq.G, eq.H, eq.yy, old) / scale;
  try {
    const double lambda = ridge * eq.G.trace().item<double>() / double(cols);
    const at::Tensor theta = at::linalg_solve(eq.G + lambda * at::eye(cols, dbl), eq.H);
    const double err = residual(eq.G, eq.H, eq.yy, theta) / scale;
    if (!std::isfinite(err) || !theta.isfinite().all().item<bool>()) {
      c.report.note = "the solution is not finite";
    } else if (err >= c.report.errorBefore) {
      c.report.note = "the refit would not lower the error";
    } else {
      c.report.errorAfter = err;
      c.report.applied = true;
      replaceTensor(w, fromOutInLayout(n.op, "weight", theta.narrow(0, 0, d0).t().reshape(outIn.sizes())));
      if (c.fitBias) {
        const at::Tensor b = theta[d0];
        if (c.bn < 0) {
          replaceTensor(n.tensor("bias"), b);
        } else {
          at::Tensor& mean = pruned.node(c.bn).tensor("running_mean");
          replaceTensor(mean, mean.detach().to(at::kDouble) - b);
        }
      }
    }
  } catch (const c10::Error& e) {
    c.report.note = std::string("least squares failed: ") + e.what_without_backtrace();
  }
}

}  // namespace

ReconstructReport reconstructConsumers(const DependencyGraph& deps, const PrunePlan& plan, Graph& pruned,
                                       const ReconstructOptions& o, const ReconstructProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  checkOptions(o);
  torch::NoGradGuard noGrad;
  std::vector<Consumer> consumers = findConsumers(deps, plan, pruned);
  std::vector<Consumer*> active;
  for (Consumer& c : consumers)
    if (c.report.note.empty()) active.push_back(&c);
  const at::Device device = deviceOf(pruned);
  sampleTargets(deps, active, o, device);

  // Consumers in topological order, each on the pruned model as refitted so far.
  GraphModule after(std::shared_ptr<Graph>(&pruned, [](Graph*) {}));
  after->eval();
  int done = 0;
  for (Consumer* c : active) {
    const NormalEquations eq = accumulate(after, pruned.node(c->node), *c, o, device);
    refit(pruned, *c, eq, o.ridge);
    if (progress) progress(++done, static_cast<int>(active.size()), pruned.node(c->node).name);
  }
  ReconstructReport report;
  for (Consumer& c : consumers) report.consumers.push_back(std::move(c.report));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace prunelab
