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

}  // namespace

void addDetectOps(std::vector<OpSpec>& table) {
  OpSpec u;
  u.kind = OpKind::Unflatten;
  u.forward = unflattenForward;
  u.inferShapes = unflattenShape;
  u.channelRule = ChannelRule::Pin;
  table.push_back(u);
  OpSpec d;
  d.kind = OpKind::DetectDecode;
  d.minInputs = 1;
  d.maxInputs = -1;
  d.forward = detectDecodeForward;
  d.inferShapes = detectDecodeShape;
  d.channelRule = ChannelRule::Pin;
  d.inferenceOnly = true;
  table.push_back(d);
}

}  // namespace prunelab::ops
