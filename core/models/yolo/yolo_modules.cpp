#include "models/yolo/yolo_modules.h"

#include <ATen/ATen.h>

#include <cmath>

#include "util/error.h"

namespace prunelab::yolo {

namespace {
// ultralytics' initialize_weights() sets every BatchNorm2d to these.
constexpr double kBnEps = 1e-3;
constexpr double kBnMomentum = 0.03;

ValueId node1(GraphBuilder& b, OpKind op, const std::string& name, const std::vector<ValueId>& in, Attributes a = {}) {
  return b.graph().out(b.node(op, name, in, std::move(a)));
}

ValueId concat(GraphBuilder& b, const std::string& name, const std::vector<ValueId>& in) {
  return node1(b, OpKind::Concat, name, in, {{"axis", int64_t{1}}});
}
}  // namespace

ValueId conv(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t k, int64_t s, int64_t pad,
             int64_t g, bool act) {
  x = b.conv(x, p + ".conv", c2, k, s, pad < 0 ? k / 2 : pad, g);
  x = b.batchNorm(x, p + ".bn", kBnEps, kBnMomentum);
  return act ? b.act(OpKind::SiLU, x, p + ".act") : x;
}

ValueId bottleneck(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, bool shortcut, int64_t k1,
                   int64_t k2, double e) {
  const int64_t hidden = static_cast<int64_t>(double(c2) * e);
  ValueId y = conv(b, x, p + ".cv1", hidden, k1);
  y = conv(b, y, p + ".cv2", c2, k2);
  return shortcut && b.channels(x) == c2 ? b.add(x, y, p + ".add") : y;
}

ValueId c3(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t n, bool shortcut, double e,
           int64_t k1, int64_t k2) {
  const int64_t hidden = static_cast<int64_t>(double(c2) * e);
  ValueId a = conv(b, x, p + ".cv1", hidden);
  const ValueId skip = conv(b, x, p + ".cv2", hidden);
  for (int64_t j = 0; j < n; ++j) a = bottleneck(b, a, p + ".m." + std::to_string(j), hidden, shortcut, k1, k2, 1.0);
  return conv(b, concat(b, p + ".cat", {a, skip}), p + ".cv3", c2);
}

ValueId c2f(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t n, bool shortcut, double e,
            const std::string& inner) {
  const int64_t c = static_cast<int64_t>(double(c2) * e);
  const ValueId y = conv(b, x, p + ".cv1", 2 * c);
  const NodeId chunk = b.node(OpKind::Split, p + ".chunk", {y}, {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{c, c}}},
                              {}, 2);
  std::vector<ValueId> parts = b.graph().node(chunk).outputs;
  for (int64_t j = 0; j < n; ++j) {
    const std::string m = p + ".m." + std::to_string(j);
    if (inner == "c2f") parts.push_back(bottleneck(b, parts.back(), m, c, shortcut, 3, 3, 1.0));
    else if (inner == "bottleneck") parts.push_back(bottleneck(b, parts.back(), m, c, shortcut, 3, 3, 0.5));
    else parts.push_back(c3(b, parts.back(), m, c, 2, shortcut, 0.5, 3, 3));  // C3k(c, c, 2)
  }
  return conv(b, concat(b, p + ".cat", parts), p + ".cv2", c2);
}

ValueId sppf(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t k) {
  std::vector<ValueId> parts = {conv(b, x, p + ".cv1", b.channels(x) / 2)};
  for (int i = 0; i < 3; ++i)
    parts.push_back(node1(b, OpKind::MaxPool, p + ".m", {parts.back()},
                          {{"kernel", std::vector<int64_t>{k, k}},
                           {"stride", std::vector<int64_t>{1, 1}},
                           {"padding", std::vector<int64_t>{k / 2, k / 2}}}));
  return conv(b, concat(b, p + ".cat", parts), p + ".cv2", c2);
}

namespace {

// Attention(dim, num_heads, attn_ratio 0.5): qkv 1x1 conv, per-head softmax(q^T k * scale),
// v @ attn^T, plus a depthwise 3x3 positional term on v, then a 1x1 projection.
ValueId attention(GraphBuilder& b, ValueId x, const std::string& p, int64_t heads) {
  const int64_t dim = b.channels(x);
  // ultralytics takes dim // 64 heads: below 64 channels it divides by zero too.
  if (heads < 1 || dim % heads != 0 || dim / heads < 2)
    throw Error(p, std::to_string(dim) + " channels cannot make " + std::to_string(heads) + " attention heads (C2PSA needs 64 or more)");
  const int64_t headDim = dim / heads, keyDim = headDim / 2;
  const ValueId qkv = conv(b, x, p + ".qkv", dim + 2 * keyDim * heads, 1, 1, -1, 1, false);
  const ValueId t = node1(b, OpKind::Reshape, p + ".view", {qkv}, {{"shape", std::vector<int64_t>{0, heads, 2 * keyDim + headDim, -1}}});
  const NodeId split = b.node(OpKind::Split, p + ".split", {t},
                              {{"axis", int64_t{2}}, {"split", std::vector<int64_t>{keyDim, keyDim, headDim}}}, {}, 3);
  const auto qkvParts = b.graph().node(split).outputs;
  const ValueId qT = node1(b, OpKind::Transpose, p + ".qT", {qkvParts[0]}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
  ValueId attn = node1(b, OpKind::MatMul, p + ".qk", {qT, qkvParts[1]}, {{"alpha", 1.0 / std::sqrt(double(keyDim))}});
  attn = node1(b, OpKind::Softmax, p + ".softmax", {attn}, {{"axis", int64_t{-1}}});
  const ValueId attnT = node1(b, OpKind::Transpose, p + ".attnT", {attn}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
  const ValueId av = node1(b, OpKind::MatMul, p + ".av", {qkvParts[2], attnT});
  // [B, nh, hd, H*W] -> [B, C, H, W]: viewed as the block's input x.
  const ValueId y = node1(b, OpKind::Reshape, p + ".unview", {av, x});
  const ValueId vImg = node1(b, OpKind::Reshape, p + ".vview", {qkvParts[2], x});
  const ValueId pe = conv(b, vImg, p + ".pe", dim, 3, 1, -1, dim, false);
  return conv(b, b.add(y, pe, p + ".add"), p + ".proj", dim, 1, 1, -1, 1, false);
}

}  // namespace

ValueId c2psa(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t n, double e) {
  const int64_t c1 = b.channels(x);
  if (c1 != c2) throw Error(p, "C2PSA needs equal input and output channels");
  const int64_t c = static_cast<int64_t>(double(c1) * e);
  const ValueId y = conv(b, x, p + ".cv1", 2 * c);
  const NodeId split = b.node(OpKind::Split, p + ".split", {y}, {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{c, c}}}, {}, 2);
  const auto ab = b.graph().node(split).outputs;
  ValueId v = ab[1];
  for (int64_t j = 0; j < n; ++j) {
    const std::string m = p + ".m." + std::to_string(j);
    v = b.add(v, attention(b, v, m + ".attn", c / 64), m + ".add1");
    ValueId f = conv(b, v, m + ".ffn.0", 2 * c);
    f = conv(b, f, m + ".ffn.1", c, 1, 1, -1, 1, false);
    v = b.add(v, f, m + ".add2");
  }
  return conv(b, concat(b, p + ".cat", {ab[0], v}), p + ".cv2", c1);
}

std::vector<ValueId> detectV5(GraphBuilder& b, const std::vector<ValueId>& in, const std::string& p, int64_t nc,
                              const std::vector<std::vector<double>>& anchors, const std::vector<int64_t>& strides) {
  const int64_t nl = static_cast<int64_t>(in.size());
  const int64_t na = static_cast<int64_t>(anchors.at(0).size() / 2), no = nc + 5;
  if (static_cast<int64_t>(anchors.size()) != nl) throw Error(p, "anchors list has " + std::to_string(anchors.size()) +
                                                                      " levels, Detect has " + std::to_string(nl));
  // Every level has the same anchors count, as (w, h) pairs: the rows are read as na pairs.
  for (const auto& row : anchors)
    if (na < 1 || static_cast<int64_t>(row.size()) != 2 * na)
      throw Error(p, "every anchors row must hold the same number of (w, h) pairs, got rows of " +
                         std::to_string(anchors.front().size()) + " and " + std::to_string(row.size()) + " numbers");
  std::vector<ValueId> raw;
  at::Tensor grid = at::empty({nl, na, 2});
  for (int64_t i = 0; i < nl; ++i) {
    const std::string m = p + ".m." + std::to_string(i);
    ValueId y = b.conv(in[i], m, na * no, 1, 1, 0, 1, /*bias=*/true);
    {
      // yolov5's _initialize_biases: objectness and class priors.
      at::NoGradGuard ng;
      at::Tensor bias = b.graph().node(b.graph().value(y).producer).tensor("bias").view({na, no});
      const double s = static_cast<double>(strides[i]);
      bias.select(1, 4).add_(std::log(8.0 / std::pow(640.0 / s, 2)));
      bias.narrow(1, 5, nc).add_(std::log(0.6 / (double(nc) - 0.99999)));
    }
    y = b.graph().out(b.node(OpKind::Unflatten, m + ".view", {y}, {{"dim", int64_t{1}}, {"sizes", std::vector<int64_t>{na, no}}}));
    y = b.graph().out(b.node(OpKind::Transpose, m + ".permute", {y}, {{"perm", std::vector<int64_t>{0, 1, 3, 4, 2}}}));
    raw.push_back(y);
    for (int64_t a = 0; a < na; ++a)
      for (int64_t d = 0; d < 2; ++d) grid[i][a][d] = anchors[i][a * 2 + d] / double(strides[i]);
  }
  NamedTensor anchorBuffer{"anchors", grid, true};
  const NodeId dec = b.node(OpKind::DetectDecode, p, raw,
                            {{"style", std::string("v5")}, {"strides", strides}, {"nc", nc}}, {anchorBuffer});
  for (ValueId r : raw) b.output(r);
  b.output(b.graph().out(dec));
  return raw;
}

std::vector<ValueId> detectDfl(GraphBuilder& b, const std::vector<ValueId>& in, const std::string& p, int64_t nc,
                               bool legacy, const std::vector<int64_t>& strides) {
  constexpr int64_t regMax = 16;
  const int64_t c0 = b.channels(in.at(0));
  const int64_t c2 = std::max<int64_t>({16, c0 / 4, 4 * regMax});
  const int64_t c3 = std::max<int64_t>(c0, std::min<int64_t>(nc, 100));
  std::vector<ValueId> raw;
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string l = "." + std::to_string(i);
    ValueId box = conv(b, in[i], p + ".cv2" + l + ".0", c2, 3);
    box = conv(b, box, p + ".cv2" + l + ".1", c2, 3);
    box = b.conv(box, p + ".cv2" + l + ".2", 4 * regMax, 1, 1, 0, 1, true);
    ValueId cls = in[i];
    if (legacy) {
      cls = conv(b, cls, p + ".cv3" + l + ".0", c3, 3);
      cls = conv(b, cls, p + ".cv3" + l + ".1", c3, 3);
    } else {
      // DWConv(x, x, 3) + Conv(x, c3, 1), twice.
      cls = conv(b, cls, p + ".cv3" + l + ".0.0", b.channels(cls), 3, 1, -1, b.channels(cls));
      cls = conv(b, cls, p + ".cv3" + l + ".0.1", c3, 1);
      cls = conv(b, cls, p + ".cv3" + l + ".1.0", c3, 3, 1, -1, c3);
      cls = conv(b, cls, p + ".cv3" + l + ".1.1", c3, 1);
    }
    cls = b.conv(cls, p + ".cv3" + l + ".2", nc, 1, 1, 0, 1, true);
    {
      // ultralytics' bias_init: box logits 1.0, class priors log(5 / nc / (640 / s)^2).
      at::NoGradGuard ng;
      Graph& g = b.graph();
      g.node(g.value(box).producer).tensor("bias").fill_(1.0);
      g.node(g.value(cls).producer).tensor("bias").fill_(std::log(5.0 / double(nc) / std::pow(640.0 / double(strides[i]), 2)));
    }
    raw.push_back(b.graph().out(b.node(OpKind::Concat, p + ".cat" + l, {box, cls}, {{"axis", int64_t{1}}})));
  }
  // The DFL bins as ultralytics stores them: a frozen conv weight [1, 16, 1, 1] = 0..15.
  NamedTensor bins{"weight", at::arange(regMax, at::kFloat).view({1, regMax, 1, 1}), false};
  const NodeId dec = b.node(OpKind::DetectDecode, p + ".dfl.conv", raw,
                            {{"style", std::string("dfl")}, {"strides", strides}, {"nc", nc}, {"reg_max", regMax}},
                            {bins});
  for (ValueId r : raw) b.output(r);
  b.output(b.graph().out(dec));
  return raw;
}

}  // namespace prunelab::yolo
