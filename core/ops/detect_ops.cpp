// YOLO head ops: Unflatten (the YOLOv5 head's view to [bs, na, no, ny, nx]) and
// DetectDecode, the inference decode of the raw per-level outputs into boxes.
//
// DetectDecode inputs: one raw tensor per level; output: decoded predictions.
//   style "v5":  inputs [bs, na, ny, nx, no], tensor "anchors" [nl, na, 2] (grid units,
//                a buffer); output [bs, sum(na*ny*nx), no] = (cx, cy, w, h in pixels, obj,
//                class scores), all after sigmoid as in yolov5's Detect.
//   style "dfl": inputs [bs, 4*reg_max + nc, ny, nx], tensor "weight" [1, reg_max, 1, 1]
//                (the DFL bins 0..reg_max-1; ultralytics keeps it as a frozen parameter);
//                output [bs, 4 + nc, sum(ny*nx)] = (cx, cy, w, h in pixels, class sigmoids).
// attrs: style, strides (per level, pixels), nc, reg_max (dfl).

#include <ATen/ATen.h>

#include "detect/yolo_head.h"
#include "ops/onnx_emitter.h"
#include "ops/torchscript_emitter.h"
#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab::ops {

namespace {

std::vector<at::Tensor> unflattenForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return {in[0].unflatten(n.attrs.getInt("dim"), n.attrs.getInts("sizes"))};
}

std::vector<Shape> unflattenShape(const Node& n, const std::vector<Shape>& in) {
  const Shape& x = in.at(0);
  const int64_t dim = n.attrs.getInt("dim");
  const auto& sizes = n.attrs.getInts("sizes");
  int64_t prod = 1;
  for (int64_t s : sizes) prod *= s;
  if (dim < 0 || dim >= static_cast<int64_t>(x.size()) || prod != x[dim])
    throw Error(n.name, "cannot unflatten dim " + std::to_string(dim) + " of " + shapeToString(x));
  Shape r(x.begin(), x.begin() + dim);
  r.insert(r.end(), sizes.begin(), sizes.end());
  r.insert(r.end(), x.begin() + dim + 1, x.end());
  return {r};
}

std::vector<at::Tensor> decodeV5(const Node& n, const std::vector<at::Tensor>& in) {
  const auto strides = n.attrs.getInts("strides");
  const at::Tensor& anchors = n.tensor("anchors");  // [nl, na, 2], grid units
  std::vector<at::Tensor> levels;
  for (size_t i = 0; i < in.size(); ++i) {
    const at::Tensor& t = in[i];  // [bs, na, ny, nx, no]
    const int64_t bs = t.size(0), na = t.size(1), ny = t.size(2), nx = t.size(3), no = t.size(4);
    const double s = static_cast<double>(strides.at(i));
    const at::Tensor y = t.sigmoid();
    const at::Tensor grid = detect::gridPoints(ny, nx, -0.5, t.options()).view({1, 1, ny, nx, 2});
    const at::Tensor anchorPx = (anchors[static_cast<int64_t>(i)] * s).view({1, na, 1, 1, 2});
    const at::Tensor xy = (y.narrow(4, 0, 2) * 2 + grid) * s;
    const at::Tensor wh = (y.narrow(4, 2, 2) * 2).pow(2) * anchorPx;
    levels.push_back(at::cat({xy, wh, y.narrow(4, 4, no - 4)}, 4).view({bs, na * ny * nx, no}));
  }
  return {at::cat(levels, 1)};
}

std::vector<at::Tensor> decodeDfl(const Node& n, const std::vector<at::Tensor>& in) {
  const auto strides = n.attrs.getInts("strides");
  const int64_t regMax = n.attrs.getInt("reg_max", 16);
  const int64_t bs = in[0].size(0), channels = in[0].size(1), nc = channels - 4 * regMax;
  std::vector<at::Tensor> flat, points, scale;
  for (size_t i = 0; i < in.size(); ++i) {
    const int64_t ny = in[i].size(2), nx = in[i].size(3);
    flat.push_back(in[i].reshape({bs, channels, ny * nx}));
    points.push_back(detect::gridPoints(ny, nx, 0.5, in[i].options()));
    scale.push_back(at::full({ny * nx, 1}, static_cast<double>(strides.at(i)), in[i].options()));
  }
  const at::Tensor x = at::cat(flat, 2);                        // [bs, C, A]
  const at::Tensor anchors = at::cat(points, 0).t().unsqueeze(0);  // [1, 2, A]
  const at::Tensor stride = at::cat(scale, 0).t().unsqueeze(0);    // [1, 1, A]
  const int64_t a = x.size(2);
  // DFL: softmax over the bins of each side, expectation with the bin weights.
  const at::Tensor box = x.narrow(1, 0, 4 * regMax).view({bs, 4, regMax, a}).softmax(2);
  const at::Tensor bins = n.tensor("weight").reshape({1, 1, regMax, 1});
  const at::Tensor dist = (box * bins).sum(2);  // [bs, 4, A]: left, top, right, bottom
  const at::Tensor lt = dist.narrow(1, 0, 2), rb = dist.narrow(1, 2, 2);
  const at::Tensor x1y1 = anchors - lt, x2y2 = anchors + rb;
  const at::Tensor xywh = at::cat({(x1y1 + x2y2) / 2, x2y2 - x1y1}, 1) * stride;
  return {at::cat({xywh, x.narrow(1, 4 * regMax, nc).sigmoid()}, 1)};
}

std::vector<at::Tensor> detectDecodeForward(const Node& n, const std::vector<at::Tensor>& in, const OpContext&) {
  return n.attrs.getString("style") == "v5" ? decodeV5(n, in) : decodeDfl(n, in);
}

std::vector<Shape> detectDecodeShape(const Node& n, const std::vector<Shape>& in) {
  if (n.attrs.getString("style") == "v5") {
    int64_t rows = 0;
    for (const Shape& s : in) {
      expectRank(n, s, 5);
      rows += s[1] * s[2] * s[3];
    }
    return {{in[0][0], rows, in[0][4]}};
  }
  const int64_t regMax = n.attrs.getInt("reg_max", 16);
  int64_t points = 0;
  for (const Shape& s : in) {
    expectRank(n, s, 4);
    if (s[1] != in[0][1]) throw Error(n.name, "levels have different channel counts");
    points += s[2] * s[3];
  }
  return {{in[0][0], 4 + in[0][1] - 4 * regMax, points}};
}

// --- ONNX forms ------------------------------------------------------------------------------

// A Reshape copying the leading dims (0) and the trailing ones (fixed at the export size).
void unflattenToOnnx(OnnxEmitter& e, const Node& n) {
  const Shape& in = e.graph().value(n.inputs[0]).shape;
  const int64_t dim = n.attrs.getInt("dim");
  std::vector<int64_t> shape(static_cast<size_t>(dim), 0);
  for (int64_t s : n.attrs.getInts("sizes")) shape.push_back(s);
  shape.insert(shape.end(), in.begin() + dim + 1, in.end());
  e.op("Reshape", {e.inputs()[0], e.ints(shape, "shape")}, e.outputs()[0]);
}

void decodeV5ToOnnx(OnnxEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  const auto strides = n.attrs.getInts("strides");
  const at::Tensor anchors = n.tensor("anchors").detach().to(at::kFloat);  // [nl, na, 2] grid units
  e.param("anchors", n.tensor("anchors"));
  std::vector<std::string> levels;
  for (size_t i = 0; i < x.size(); ++i) {
    const Shape& s = e.graph().value(n.inputs[i]).shape;  // [bs, na, ny, nx, no]
    const int64_t na = s[1], ny = s[2], nx = s[3], no = s[4];
    const float stride = static_cast<float>(strides.at(i));
    const std::string L = "l" + std::to_string(i) + "_";
    // Constants at the full [1, na, ny, nx, 2] (as yolov5's own export): OpenCV DNN 4.6
    // cannot broadcast a 5-D operand over inner dims.
    const std::string grid =
        e.constant(detect::gridPoints(ny, nx, -0.5, at::kFloat).view({1, 1, ny, nx, 2}).expand({1, na, ny, nx, 2}).contiguous(),
                   L + "grid");
    const std::string anchorPx = e.constant(
        (anchors[static_cast<int64_t>(i)] * stride).view({1, na, 1, 1, 2}).expand({1, na, ny, nx, 2}).contiguous(),
        L + "anchor_px");
    const std::string sig = e.op("Sigmoid", {x[i]}).out();
    auto slice = [&](int64_t a, int64_t b) {
      return e.op("Slice", {sig, e.ints({a}, L + "s" + std::to_string(a)), e.ints({b}, L + "e" + std::to_string(b)), e.ints({4}, L + "ax")})
          .out();
    };
    const std::string two = e.floats({2.f}, L + "two");
    const std::string xy =
        e.op("Mul", {e.op("Add", {e.op("Mul", {slice(0, 2), two}).out(), grid}).out(), e.floats({stride}, L + "stride")}).out();
    const std::string wh = e.op("Mul", {e.op("Pow", {e.op("Mul", {slice(2, 4), two}).out(), two}).out(), anchorPx}).out();
    const std::string cat = e.op("Concat", {xy, wh, slice(4, no)}).attr("axis", int64_t{4}).out();
    levels.push_back(e.op("Reshape", {cat, e.ints({0, na * ny * nx, no}, L + "rows")}).out());
  }
  e.op("Concat", levels, e.outputs()[0]).attr("axis", int64_t{1});
}

void decodeDflToOnnx(OnnxEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  const auto strides = n.attrs.getInts("strides");
  const int64_t regMax = n.attrs.getInt("reg_max", 16);
  const std::string bins = e.param("weight", n.tensor("weight"));  // [1, reg_max, 1, 1]: a 1x1 conv's weight
  const int64_t channels = e.graph().value(n.inputs[0]).shape[1], nc = channels - 4 * regMax;
  std::vector<std::string> flat;
  std::vector<at::Tensor> points, scale;
  for (size_t i = 0; i < x.size(); ++i) {
    const Shape& s = e.graph().value(n.inputs[i]).shape;
    flat.push_back(e.op("Reshape", {x[i], e.ints({0, channels, -1}, "flat" + std::to_string(i))}).out());
    points.push_back(detect::gridPoints(s[2], s[3], 0.5, at::kFloat));
    scale.push_back(at::full({s[2] * s[3], 1}, static_cast<float>(strides.at(i))));
  }
  const int64_t a = at::cat(points, 0).size(0);
  const std::string anchors = e.constant(at::cat(points, 0).t().unsqueeze(0).contiguous(), "anchor_points");  // [1,2,A]
  // [1,4,A], not [1,1,A]: OpenCV DNN 4.6 does not broadcast over the channel dim.
  const std::string stride = e.constant(at::cat(scale, 0).t().unsqueeze(0).expand({1, 4, -1}).contiguous(), "stride_tensor");
  const std::string all = e.op("Concat", flat).attr("axis", int64_t{2}).out();  // [bs, C, A]
  auto slice = [&](const std::string& t, int64_t b, int64_t end, int64_t axis, const std::string& tag) {
    return e.op("Slice", {t, e.ints({b}, tag + "_s"), e.ints({end}, tag + "_e"), e.ints({axis}, tag + "_ax")}).out();
  };
  // DFL: [bs, 4, reg, A] -> bins on the channel dim -> softmax -> 1x1 conv with the bins.
  const std::string box = e.op("Reshape", {slice(all, 0, 4 * regMax, 1, "box"), e.ints({0, 4, regMax, a}, "box_shape")}).out();
  const std::string tr = e.op("Transpose", {box}).attr("perm", std::vector<int64_t>{0, 2, 1, 3}).out();
  const std::string sm = e.op("Softmax", {tr}).attr("axis", int64_t{1}).out();
  const std::string conv = e.op("Conv", {sm, bins}).attr("kernel_shape", std::vector<int64_t>{1, 1}).out();
  const std::string dist = e.op("Reshape", {conv, e.ints({0, 4, a}, "dist_shape")}).out();  // [bs, 4, A]
  const std::string lt = slice(dist, 0, 2, 1, "lt"), rb = slice(dist, 2, 4, 1, "rb");
  const std::string x1y1 = e.op("Sub", {anchors, lt}).out(), x2y2 = e.op("Add", {anchors, rb}).out();
  const std::string c = e.op("Div", {e.op("Add", {x1y1, x2y2}).out(), e.floats({2.f}, "two")}).out();
  const std::string wh = e.op("Sub", {x2y2, x1y1}).out();
  const std::string boxes = e.op("Concat", {c, wh}).attr("axis", int64_t{1}).out();
  const std::string xywh = e.op("Mul", {boxes, stride}).out();
  const std::string cls = e.op("Sigmoid", {slice(all, 4 * regMax, 4 * regMax + nc, 1, "cls")}).out();
  e.op("Concat", {xywh, cls}, e.outputs()[0]).attr("axis", int64_t{1});
}

void detectDecodeToOnnx(OnnxEmitter& e, const Node& n) {
  if (n.attrs.getString("style") == "v5") decodeV5ToOnnx(e, n);
  else decodeDflToOnnx(e, n);
}

// --- TorchScript forms -------------------------------------------------------------------------

void unflattenToScript(ScriptEmitter& e, const Node& n) {
  const std::string& x = e.inputs()[0];
  const Shape& s0 = e.graph().value(n.inputs[0]).shape;
  const int64_t dim = n.attrs.getInt("dim");
  std::string l = "[";
  for (int64_t i = 0; i < static_cast<int64_t>(s0.size()); ++i) {
    if (i == dim) {
      for (int64_t v : n.attrs.getInts("sizes")) l += (l.size() > 1 ? ", " : "") + std::to_string(v);
    } else {
      l += (l.size() > 1 ? ", " : "") + x + ".size(" + std::to_string(i) + ")";
    }
  }
  e.assign("torch.reshape(" + x + ", " + l + "])");
}

void decodeV5ToScript(ScriptEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  const auto strides = n.attrs.getInts("strides");
  const at::Tensor anchors = n.tensor("anchors").detach().to(at::kFloat);
  std::string levels;
  for (size_t i = 0; i < x.size(); ++i) {
    const Shape& s = e.graph().value(n.inputs[i]).shape;
    const int64_t na = s[1], ny = s[2], nx = s[3], no = s[4];
    const double stride = static_cast<double>(strides.at(i));
    const std::string grid = e.buffer(n, "grid" + std::to_string(i), detect::gridPoints(ny, nx, -0.5, at::kFloat).view({1, 1, ny, nx, 2}));
    const std::string anchorPx =
        e.buffer(n, "anchor_grid" + std::to_string(i), (anchors[static_cast<int64_t>(i)] * stride).view({1, na, 1, 1, 2}).contiguous());
    const std::string t = "_d" + std::to_string(n.id) + "_" + std::to_string(i);
    e.statement(t + " = torch.sigmoid(" + x[i] + ")");
    e.statement(t + "xy = (torch.narrow(" + t + ", 4, 0, 2) * 2.0 + " + grid + ") * " + scriptNum(stride));
    e.statement(t + "wh = torch.pow(torch.narrow(" + t + ", 4, 2, 2) * 2.0, 2.0) * " + anchorPx);
    e.statement(t + "o = torch.reshape(torch.cat([" + t + "xy, " + t + "wh, torch.narrow(" + t + ", 4, 4, " +
                std::to_string(no - 4) + ")], 4), [" + x[i] + ".size(0), " + std::to_string(na * ny * nx) + ", " +
                std::to_string(no) + "])");
    levels += (levels.empty() ? "" : ", ") + t + "o";
  }
  e.assign("torch.cat([" + levels + "], 1)");
}

void decodeDflToScript(ScriptEmitter& e, const Node& n) {
  const auto& x = e.inputs();
  const auto strides = n.attrs.getInts("strides");
  const int64_t regMax = n.attrs.getInt("reg_max", 16);
  const int64_t channels = e.graph().value(n.inputs[0]).shape[1], nc = channels - 4 * regMax;
  std::vector<at::Tensor> points, scale;
  std::string flat;
  for (size_t i = 0; i < x.size(); ++i) {
    const Shape& s = e.graph().value(n.inputs[i]).shape;
    points.push_back(detect::gridPoints(s[2], s[3], 0.5, at::kFloat));
    scale.push_back(at::full({s[2] * s[3], 1}, static_cast<float>(strides.at(i))));
    flat += (flat.empty() ? "" : ", ") + std::string("torch.reshape(") + x[i] + ", [" + x[i] + ".size(0), " +
            std::to_string(channels) + ", " + std::to_string(s[2] * s[3]) + "])";
  }
  const int64_t a = at::cat(points, 0).size(0);
  const std::string anchors = e.buffer(n, "anchor_points", at::cat(points, 0).t().unsqueeze(0).contiguous());
  const std::string stride = e.buffer(n, "stride_tensor", at::cat(scale, 0).t().unsqueeze(0).contiguous());
  const std::string t = "_d" + std::to_string(n.id);
  const std::string bins = e.tensor(n, "weight");
  e.statement(t + " = torch.cat([" + flat + "], 2)");
  e.statement(t + "b = torch.softmax(torch.reshape(torch.narrow(" + t + ", 1, 0, " + std::to_string(4 * regMax) + "), [" + t +
              ".size(0), 4, " + std::to_string(regMax) + ", " + std::to_string(a) + "]), 2)");
  e.statement(t + "d = torch.sum(" + t + "b * torch.reshape(" + bins + ", [1, 1, " + std::to_string(regMax) + ", 1]), [2])");
  e.statement(t + "p = " + anchors + " - torch.narrow(" + t + "d, 1, 0, 2)");
  e.statement(t + "q = " + anchors + " + torch.narrow(" + t + "d, 1, 2, 2)");
  e.assign("torch.cat([torch.cat([(" + t + "p + " + t + "q) / 2.0, " + t + "q - " + t + "p], 1) * " + stride +
           ", torch.sigmoid(torch.narrow(" + t + ", 1, " + std::to_string(4 * regMax) + ", " + std::to_string(nc) + "))], 1)");
}

void detectDecodeToScript(ScriptEmitter& e, const Node& n) {
  if (n.attrs.getString("style") == "v5") decodeV5ToScript(e, n);
  else decodeDflToScript(e, n);
}

}  // namespace

void addDetectOps(OpRegistry& r) {
  OpSpec u;
  u.kind = OpKind::Unflatten;
  u.forward = unflattenForward;
  u.inferShapes = unflattenShape;
  u.zeroCost = true;
  u.channelRule = ChannelRule::Pin;
  u.onnxExport = unflattenToOnnx;
  u.torchScript = unflattenToScript;
  r.add(u);
  OpSpec d;
  d.kind = OpKind::DetectDecode;
  d.minInputs = 1;
  d.maxInputs = -1;
  d.forward = detectDecodeForward;
  d.inferShapes = detectDecodeShape;
  d.zeroCost = true;  // post-processing: not in the model's MACs (as ultralytics' summaries)
  d.channelRule = ChannelRule::Pin;
  d.inferenceOnly = true;
  d.onnxExport = detectDecodeToOnnx;
  d.torchScript = detectDecodeToScript;
  r.add(d);
}

}  // namespace prunelab::ops
