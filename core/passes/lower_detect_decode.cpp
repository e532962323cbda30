#include "passes/lower_detect_decode.h"

#include <ATen/ATen.h>

#include <string>

#include "detect/yolo_head.h"
#include "util/error.h"

namespace prunelab::passes {

namespace {

// Appends primitive nodes to the fragment under the decode's name and scope.
class Fragment {
 public:
  Fragment(const Node& decode, const std::vector<Shape>& inputShapes) : m_decode(decode) {
    for (size_t i = 0; i < inputShapes.size(); ++i) m_inputs.push_back(m_g.addInput("x" + std::to_string(i), inputShapes[i]));
  }
  ValueId input(size_t i) const { return m_inputs.at(i); }

  ValueId op(OpKind kind, const std::string& step, const std::vector<ValueId>& in, Attributes attrs = {},
             std::vector<NamedTensor> tensors = {}) {
    return m_g.out(m_g.addNode(kind, m_decode.name + "/" + step, in, std::move(attrs), std::move(tensors), 1, m_decode.scope));
  }
  ValueId constant(const std::string& step, const at::Tensor& value) {
    return op(OpKind::Constant, step, {}, {}, {{"value", value.to(at::kFloat).contiguous(), true}});
  }
  ValueId scalar(const std::string& step, double v) { return constant(step, at::full({1}, v, at::kFloat)); }
  ValueId slice(const std::string& step, ValueId x, int64_t axis, int64_t start, int64_t end) {
    Attributes a;
    a.set("axes", std::vector<int64_t>{axis});
    a.set("starts", std::vector<int64_t>{start});
    a.set("ends", std::vector<int64_t>{end});
    return op(OpKind::Slice, step, {x}, std::move(a));
  }
  ValueId withInts(OpKind kind, const std::string& step, const std::vector<ValueId>& in, const char* attr,
                   std::vector<int64_t> v) {
    Attributes a;
    a.set(attr, std::move(v));
    return op(kind, step, in, std::move(a));
  }
  ValueId withInt(OpKind kind, const std::string& step, const std::vector<ValueId>& in, const char* attr, int64_t v) {
    Attributes a;
    a.set(attr, v);
    return op(kind, step, in, std::move(a));
  }
  Graph finish(ValueId out) {
    m_g.markOutput(out);
    return std::move(m_g);
  }

 private:
  const Node& m_decode;
  Graph m_g;
  std::vector<ValueId> m_inputs;
};

// yolov5's Detect (v6.0+): xy = (2 sigmoid - 0.5 + cell) * stride, wh = (2 sigmoid)^2 * anchor.
Graph lowerV5(const Node& n, const std::vector<Shape>& in) {
  Fragment f(n, in);
  const auto strides = n.attrs.getInts("strides");
  const at::Tensor anchors = n.tensor("anchors").detach().to(at::kCPU).to(at::kFloat);  // [nl, na, 2] grid units
  std::vector<ValueId> levels;
  for (size_t i = 0; i < in.size(); ++i) {
    const Shape& s = in[i];  // [bs, na, ny, nx, no]
    if (s.size() != 5) throw Error(n.name, "v5 decode input " + std::to_string(i) + " is " + shapeToString(s) + ", not 5-D");
    const int64_t na = s[1], ny = s[2], nx = s[3], no = s[4];
    const double stride = static_cast<double>(strides.at(i));
    const std::string L = "l" + std::to_string(i) + "_";
    const ValueId grid = f.constant(
        L + "grid", detect::gridPoints(ny, nx, -0.5, at::kFloat).view({1, 1, ny, nx, 2}).expand({1, na, ny, nx, 2}));
    const ValueId anchorPx = f.constant(
        L + "anchor_px", (anchors[static_cast<int64_t>(i)] * stride).view({1, na, 1, 1, 2}).expand({1, na, ny, nx, 2}));
    const ValueId two = f.scalar(L + "two", 2.0);
    const ValueId sig = f.op(OpKind::Sigmoid, L + "sigmoid", {f.input(i)});
    const ValueId xy2 = f.op(OpKind::Mul, L + "xy2", {f.slice(L + "xy", sig, 4, 0, 2), two});
    const ValueId xy = f.op(OpKind::Mul, L + "xy_px", {f.op(OpKind::Add, L + "xy_cell", {xy2, grid}), f.scalar(L + "stride", stride)});
    const ValueId wh2 = f.op(OpKind::Mul, L + "wh2", {f.slice(L + "wh", sig, 4, 2, 4), two});
    const ValueId wh = f.op(OpKind::Mul, L + "wh_px", {f.op(OpKind::Pow, L + "wh_sq", {wh2, two}), anchorPx});
    const ValueId cat = f.withInt(OpKind::Concat, L + "cat", {xy, wh, f.slice(L + "scores", sig, 4, 4, no)}, "axis", 4);
    levels.push_back(f.withInts(OpKind::Reshape, L + "rows", {cat}, "shape", {0, na * ny * nx, no}));
  }
  return f.finish(f.withInt(OpKind::Concat, "cat", levels, "axis", 1));
}

// ultralytics' Detect (v8, 11): the DFL expectation of each side's distance, then
// boxes around the anchor points; class scores through a sigmoid.
Graph lowerDfl(const Node& n, const std::vector<Shape>& in) {
  Fragment f(n, in);
  const auto strides = n.attrs.getInts("strides");
  const int64_t regMax = n.attrs.getInt("reg_max", 16);
  const int64_t channels = in.at(0).at(1), nc = channels - 4 * regMax;
  if (nc <= 0) throw Error(n.name, "has " + std::to_string(channels) + " channels, fewer than 4 x reg_max");
  std::vector<ValueId> flat;
  std::vector<at::Tensor> points, scale;
  for (size_t i = 0; i < in.size(); ++i) {
    const Shape& s = in[i];
    if (s.size() != 4) throw Error(n.name, "decode input " + std::to_string(i) + " is " + shapeToString(s) + ", not 4-D");
    flat.push_back(f.withInts(OpKind::Reshape, "flat" + std::to_string(i), {f.input(i)}, "shape", {0, channels, -1}));
    points.push_back(detect::gridPoints(s[2], s[3], 0.5, at::kFloat));
    scale.push_back(at::full({s[2] * s[3], 1}, static_cast<double>(strides.at(i)), at::kFloat));
  }
  const at::Tensor pts = at::cat(points, 0);
  const int64_t a = pts.size(0);
  const ValueId anchors = f.constant("anchor_points", pts.t().unsqueeze(0));  // [1, 2, A]
  // [1, 4, A], not [1, 1, A]: OpenCV DNN 4.6 does not broadcast over the channel dim.
  const ValueId stride = f.constant("stride_tensor", at::cat(scale, 0).t().unsqueeze(0).expand({1, 4, a}));
  const ValueId all = f.withInt(OpKind::Concat, "cat_levels", flat, "axis", 2);  // [bs, C, A]
  // [bs, 4, reg, A] -> bins on dim 1 -> softmax -> a 1x1 conv with the bins 0..reg-1.
  const ValueId box = f.withInts(OpKind::Reshape, "box", {f.slice("box_logits", all, 1, 0, 4 * regMax)}, "shape", {0, 4, regMax, a});
  const ValueId bins = f.withInt(OpKind::Softmax, "softmax", {f.withInts(OpKind::Transpose, "bins_first", {box}, "perm", {0, 2, 1, 3})},
                                 "axis", 1);
  Attributes conv;
  conv.set("stride", std::vector<int64_t>{1, 1});
  conv.set("padding", std::vector<int64_t>{0, 0});
  conv.set("dilation", std::vector<int64_t>{1, 1});
  conv.set("groups", int64_t{1});
  const ValueId expect = f.op(OpKind::Conv, "dfl", {bins}, conv, {{"weight", n.tensor("weight"), false}});
  const ValueId dist = f.withInts(OpKind::Reshape, "dist", {expect}, "shape", {0, 4, a});  // left, top, right, bottom
  const ValueId x1y1 = f.op(OpKind::Sub, "x1y1", {anchors, f.slice("lt", dist, 1, 0, 2)});
  const ValueId x2y2 = f.op(OpKind::Add, "x2y2", {anchors, f.slice("rb", dist, 1, 2, 4)});
  const ValueId centre = f.op(OpKind::Div, "centre", {f.op(OpKind::Add, "corner_sum", {x1y1, x2y2}), f.scalar("two", 2.0)});
  const ValueId size = f.op(OpKind::Sub, "size", {x2y2, x1y1});
  const ValueId xywh = f.op(OpKind::Mul, "xywh", {f.withInt(OpKind::Concat, "boxes", {centre, size}, "axis", 1), stride});
  const ValueId cls = f.op(OpKind::Sigmoid, "scores", {f.slice("cls_logits", all, 1, 4 * regMax, 4 * regMax + nc)});
  return f.finish(f.withInt(OpKind::Concat, "out", {xywh, cls}, "axis", 1));
}

}  // namespace

Graph lowerDetectDecode(const Node& decode, const std::vector<Shape>& inputShapes) {
  if (decode.op != OpKind::DetectDecode) throw Error(decode.name, "is not a DetectDecode");
  if (inputShapes.empty()) throw Error(decode.name, "decode without inputs");
  return decode.attrs.getString("style") == "v5" ? lowerV5(decode, inputShapes) : lowerDfl(decode, inputShapes);
}

}  // namespace prunelab::passes
