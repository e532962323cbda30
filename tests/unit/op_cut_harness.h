#pragma once
// Pruning harnesses for test_op_completeness: for each op kind whose channels can be cut,
// small graphs that hold the op between channel sources and consumers, so a plan cuts
// channels through it:
//
//     x [1, 10, 6, 6] -> producer(s) -> the op (node "op") -> consumer(s) -> outputs
//
// Producers and consumers are Conv (weight [O, I, kh, kw]) or Linear (weight [O, I]), as
// PyTorch defines them; the reference that masks channels (maskedReference) relies on
// that layout itself, never on the op table's, so a wrong declaration in the table cannot
// hide in both sides of the comparison.

#include <ATen/ATen.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"

namespace prunelab::test {

struct CutHarness {
  std::string name;  // which variant ("dense", "depthwise"...)
  std::function<Graph()> build;
};

inline Attributes convAttrs(int64_t k, int64_t groups = 1) {
  return {{"stride", std::vector<int64_t>{1, 1}}, {"padding", std::vector<int64_t>{k / 2, k / 2}},
          {"dilation", std::vector<int64_t>{1, 1}}, {"groups", groups}};
}

// A conv cin -> cout (k x k, zero padding k/2) with a bias; small weights keep the
// outputs near 1, where 1e-5 is a meaningful tolerance.
inline ValueId conv(Graph& g, const std::string& name, ValueId in, int64_t cin, int64_t cout, int64_t k = 3,
                    int64_t groups = 1) {
  return g.out(g.addNode(OpKind::Conv, name, {in}, convAttrs(k, groups),
                         {{"weight", at::randn({cout, cin / groups, k, k}) * 0.3, false}, {"bias", at::randn({cout}) * 0.1, false}}));
}

inline ValueId linear(Graph& g, const std::string& name, ValueId in, int64_t fin, int64_t fout) {
  return g.out(g.addNode(OpKind::Linear, name, {in}, {},
                         {{"weight", at::randn({fout, fin}) * (1.0 / std::sqrt(double(fin))), false},
                          {"bias", at::randn({fout}) * 0.1, false}}));
}

inline ValueId batchNorm(Graph& g, const std::string& name, ValueId in, int64_t c) {
  return g.out(g.addNode(OpKind::BatchNorm, name, {in}, {{"eps", 1e-5}, {"momentum", 0.1}},
                         {{"weight", at::randn({c}), false},
                          {"bias", at::randn({c}), false},
                          {"running_mean", at::randn({c}) * 0.1, true},
                          {"running_var", at::rand({c}) + 0.5, true},
                          {"num_batches_tracked", at::zeros({}, at::kLong), true}}));
}

// x -> conv(10 -> 8) -> op(attrs) -> conv(c -> 4) -> output, where c is the op's output
// channel count; `flat`: the op's output is [N, F] with F = c and a Linear consumes it.
inline CutHarness unaryHarness(OpKind op, Attributes attrs = {}, int64_t outChannels = 8, bool flat = false,
                               int64_t consumerKernel = 3) {
  return {"unary", [=] {
            Graph g;
            const ValueId x = g.addInput("x", {1, 10, 6, 6});
            const ValueId a = conv(g, "producer", x, 10, 8);
            const ValueId y = g.out(g.addNode(op, "op", {a}, attrs));
            g.markOutput(flat ? linear(g, "consumer", y, outChannels, 5)
                              : conv(g, "consumer", y, outChannels, 4, consumerKernel));
            return g;
          }};
}

// Two producers (8 channels each) into a binary op; `positiveRight` puts a Sigmoid on the
// right operand (Div's divisor, and Pow's base when `positiveLeft`).
inline CutHarness binaryHarness(OpKind op, bool positiveLeft = false, bool positiveRight = false) {
  return {"binary", [=] {
            Graph g;
            const ValueId x = g.addInput("x", {1, 10, 6, 6});
            ValueId a = conv(g, "producer_a", x, 10, 8), b = conv(g, "producer_b", x, 10, 8);
            if (positiveLeft) a = g.out(g.addNode(OpKind::Sigmoid, "positive_a", {a}));
            if (positiveRight) b = g.out(g.addNode(OpKind::Sigmoid, "positive_b", {b}));
            g.markOutput(conv(g, "consumer", g.out(g.addNode(op, "op", {a, b})), 8, 4));
            return g;
          }};
}

inline std::vector<CutHarness> convHarnesses() {
  CutHarness dense{"dense", [] {
                     Graph g;
                     const ValueId x = g.addInput("x", {1, 10, 6, 6});
                     const ValueId a = conv(g, "producer", x, 10, 8);
                     g.markOutput(conv(g, "consumer", conv(g, "op", a, 8, 6), 6, 4));
                     return g;
                   }};
  CutHarness depthwise{"depthwise", [] {
                         Graph g;
                         const ValueId x = g.addInput("x", {1, 10, 6, 6});
                         const ValueId a = conv(g, "producer", x, 10, 8);
                         g.markOutput(conv(g, "consumer", conv(g, "op", a, 8, 8, 3, 8), 8, 4));
                         return g;
                       }};
  return {dense, depthwise};
}

// The harnesses of every op kind that has them; a kind whose channel rule lets channels
// through but has none here fails the test.
inline const std::map<OpKind, std::vector<CutHarness>>& cutHarnesses() {
  static const std::map<OpKind, std::vector<CutHarness>> m = [] {
    std::map<OpKind, std::vector<CutHarness>> h;
    h[OpKind::Conv] = convHarnesses();
    h[OpKind::BatchNorm] = {{"bn", [] {
                               Graph g;
                               const ValueId x = g.addInput("x", {1, 10, 6, 6});
                               const ValueId a = conv(g, "producer", x, 10, 8);
                               g.markOutput(conv(g, "consumer", batchNorm(g, "op", a, 8), 8, 4));
                               return g;
                             }}};
    for (OpKind k : {OpKind::ReLU, OpKind::ReLU6, OpKind::SiLU, OpKind::Sigmoid, OpKind::Hardswish, OpKind::Dropout,
                     OpKind::Identity})
      h[k] = {unaryHarness(k)};
    h[OpKind::LeakyReLU] = {unaryHarness(OpKind::LeakyReLU, {{"negative_slope", 0.1}})};
    for (OpKind k : {OpKind::Add, OpKind::Mul, OpKind::Sub}) h[k] = {binaryHarness(k)};
    h[OpKind::Div] = {binaryHarness(OpKind::Div, false, true)};
    h[OpKind::Pow] = {binaryHarness(OpKind::Pow, true, false)};
    h[OpKind::MaxPool] = {unaryHarness(OpKind::MaxPool, {{"kernel", std::vector<int64_t>{3, 3}},
                                                         {"stride", std::vector<int64_t>{2, 2}},
                                                         {"padding", std::vector<int64_t>{1, 1}},
                                                         {"dilation", std::vector<int64_t>{1, 1}},
                                                         {"ceil_mode", int64_t{0}}})};
    h[OpKind::AvgPool] = {unaryHarness(OpKind::AvgPool, {{"kernel", std::vector<int64_t>{2, 2}},
                                                         {"stride", std::vector<int64_t>{2, 2}},
                                                         {"padding", std::vector<int64_t>{0, 0}},
                                                         {"ceil_mode", int64_t{0}},
                                                         {"count_include_pad", int64_t{1}}})};
    h[OpKind::GlobalAvgPool] = {unaryHarness(OpKind::GlobalAvgPool, {}, 8, false, 1)};
    h[OpKind::Upsample] = {unaryHarness(OpKind::Upsample, {{"scale", 2.0}})};
    h[OpKind::Flatten] = {unaryHarness(OpKind::Flatten, {{"start_dim", int64_t{1}}}, 8 * 36, true)};
    // [0, 288]: the feature count recorded, which surgery must follow (resizeAttrs).
    h[OpKind::Reshape] = {unaryHarness(OpKind::Reshape, {{"shape", std::vector<int64_t>{0, 8 * 36}}}, 8 * 36, true)};
    h[OpKind::Linear] = {{"linear", [] {
                            Graph g;
                            const ValueId x = g.addInput("x", {1, 10, 6, 6});
                            const ValueId f = g.out(g.addNode(OpKind::Flatten, "flatten", {x}, {{"start_dim", int64_t{1}}}));
                            const ValueId a = linear(g, "producer", f, 360, 12);
                            g.markOutput(linear(g, "consumer", linear(g, "op", a, 12, 9), 9, 5));
                            return g;
                          }}};
    h[OpKind::Concat] = {{"concat", [] {
                            Graph g;
                            const ValueId x = g.addInput("x", {1, 10, 6, 6});
                            const ValueId a = conv(g, "producer_a", x, 10, 8), b = conv(g, "producer_b", x, 10, 6);
                            const ValueId y = g.out(g.addNode(OpKind::Concat, "op", {a, b}, {{"axis", int64_t{1}}}));
                            g.markOutput(conv(g, "consumer", y, 14, 4));
                            return g;
                          }}};
    h[OpKind::Split] = {{"split", [] {  // unequal parts: each consumer reads its own slice
                           Graph g;
                           const ValueId x = g.addInput("x", {1, 10, 6, 6});
                           const ValueId a = conv(g, "producer", x, 10, 10);
                           const NodeId s = g.addNode(OpKind::Split, "op", {a},
                                                      {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{3, 7}}}, {}, 2);
                           g.markOutput(conv(g, "consumer_0", g.node(s).outputs[0], 3, 4));
                           g.markOutput(conv(g, "consumer_1", g.node(s).outputs[1], 7, 4));
                           return g;
                         }}};
    return h;
  }();
  return m;
}

// Channels 1 and 3 of every prunable group of 4 or more (the group's pinned channels
// aside): a cut through the middle of each part of a Concat or Split as well.
inline std::vector<std::vector<int64_t>> cutOneAndThree(const DependencyGraph& deps) {
  std::vector<std::vector<int64_t>> removed(deps.groups().size());
  for (const Group& g : deps.groups())
    if (g.size >= 4)
      for (int64_t k : {int64_t{1}, int64_t{3}})
        if (!g.pinned[static_cast<size_t>(k)]) removed[static_cast<size_t>(g.id)].push_back(k);
  return removed;
}

// The reference for a cut: the unpruned graph (tensors cloned) whose consumers never see
// the removed channels - every channel source's weight zeroed at the removed input
// channels along dim 1, PyTorch's in dim of Conv and Linear weights. `kept[v]`: the
// channels of value v a cut keeps (DependencyGraph::keptChannels).
inline Graph maskedReference(const Graph& graph, const std::vector<std::vector<int64_t>>& kept) {
  Graph masked = graph.clone();
  for (Node& n : masked.nodes()) {
    if (n.op != OpKind::Conv && n.op != OpKind::Linear) continue;
    // A depthwise conv's input channel c is its output channel c: what reads it is masked.
    if (n.attrs.getInt("groups", 1) != 1) continue;
    at::Tensor& w = n.tensor("weight");
    const ValueId in = n.inputs[0];
    const int64_t width = masked.value(in).shape.at(1);
    if (static_cast<int64_t>(kept[in].size()) == width) continue;
    std::vector<bool> keep(static_cast<size_t>(width), false);
    for (int64_t c : kept[in]) keep[static_cast<size_t>(c)] = true;
    at::NoGradGuard noGrad;
    for (int64_t c = 0; c < width; ++c)
      if (!keep[static_cast<size_t>(c)]) w.select(1, c).zero_();
  }
  return masked;
}

}  // namespace prunelab::test
