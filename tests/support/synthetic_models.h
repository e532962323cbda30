#pragma once
// Small synthetic graphs for pruning tests and benchmarks: a YOLO-like network with
// C2f-style Split/Concat blocks, residual Adds, SPPF (repeated MaxPool + Concat),
// Upsample and two protected heads.

#include <ATen/ATen.h>

#include "graph/graph.h"
#include "models/graph_builder.h"

namespace prunelab::test {

inline ValueId convBlock(GraphBuilder& b, ValueId x, const std::string& p, int64_t out, int64_t k, int64_t s = 1) {
  x = b.conv(x, p + ".conv", out, k, s);
  x = b.batchNorm(x, p + ".bn");
  return b.act(OpKind::SiLU, x, p + ".act");
}

inline ValueId c2f(GraphBuilder& b, ValueId x, const std::string& p, int64_t out, int n) {
  ValueId y = convBlock(b, x, p + ".cv1", out, 1);
  const int64_t h = out / 2;
  const NodeId split = b.node(OpKind::Split, p + ".split", {y}, {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{h, h}}}, {}, 2);
  std::vector<ValueId> parts = b.graph().node(split).outputs;
  for (int i = 0; i < n; ++i) {
    const std::string m = p + ".m." + std::to_string(i);
    ValueId t = convBlock(b, parts.back(), m + ".cv1", h, 3);
    t = convBlock(b, t, m + ".cv2", h, 3);
    parts.push_back(b.add(parts.back(), t, m + ".add"));
  }
  const ValueId cat = b.graph().out(b.node(OpKind::Concat, p + ".cat", parts, {{"axis", int64_t{1}}}));
  return convBlock(b, cat, p + ".cv2", out, 1);
}

inline ValueId sppf(GraphBuilder& b, ValueId x, const std::string& p, int64_t out) {
  ValueId y = convBlock(b, x, p + ".cv1", b.channels(x) / 2, 1);
  std::vector<ValueId> parts = {y};
  for (int i = 0; i < 3; ++i)
    parts.push_back(b.graph().out(b.node(OpKind::MaxPool, p + ".m", {parts.back()},
                                         {{"kernel", std::vector<int64_t>{5, 5}},
                                          {"stride", std::vector<int64_t>{1, 1}},
                                          {"padding", std::vector<int64_t>{2, 2}}})));
  const ValueId cat = b.graph().out(b.node(OpKind::Concat, p + ".cat", parts, {{"axis", int64_t{1}}}));
  return convBlock(b, cat, p + ".cv2", out, 1);
}

inline Graph yoloLike(int64_t width = 16) {
  Graph g;
  GraphBuilder b(g);
  ValueId x = b.input("input", {3, 32, 32});
  x = convBlock(b, x, "model.0", width, 3, 2);
  const ValueId p3 = c2f(b, x, "model.1", 2 * width, 2);
  x = convBlock(b, p3, "model.2", 4 * width, 3, 2);
  x = sppf(b, x, "model.3", 4 * width);
  const ValueId up = b.graph().out(b.node(OpKind::Upsample, "model.4", {x}, {{"scale", 2.0}}));
  const ValueId cat = b.graph().out(b.node(OpKind::Concat, "model.5", {up, p3}, {{"axis", int64_t{1}}}));
  const ValueId head = c2f(b, cat, "model.6", 2 * width, 1);
  b.output(b.conv(head, "model.7.cv3", 18, 1, 1, 0, 1, true));  // detection heads: protected outputs
  b.output(b.conv(x, "model.7.cv4", 18, 1, 1, 0, 1, true));
  g.metadata()["input"] = "3x32x32";
  return g;
}

// Realistic BatchNorm state: random running statistics and affine parameters.
inline void randomiseBatchNorm(Graph& g, uint64_t seed) {
  at::manual_seed(seed);
  at::NoGradGuard ng;
  for (Node& n : g.nodes()) {
    if (n.op != OpKind::BatchNorm) continue;
    const int64_t c = n.tensor("running_mean").numel();
    n.tensor("running_mean").copy_(at::randn({c}) * 0.2);
    n.tensor("running_var").copy_(at::rand({c}) + 0.5);
    n.tensor("weight").copy_(at::rand({c}) + 0.5);
    n.tensor("bias").copy_(at::randn({c}) * 0.1);
  }
}

}  // namespace prunelab::test
