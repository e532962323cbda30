// YOLO head ops: Unflatten (the YOLOv5 head's view to [bs, na, no, ny, nx]) and
// DetectDecode, the inference decode of the raw per-level outputs into boxes. DetectDecode
// is a composite: its computation is written once, in primitives, by the lowering pass
// passes/lower_detect_decode; here are its shape and channel rules.
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
  d.inferShapes = detectDecodeShape;
  d.zeroCost = true;  // post-processing: not in the model's MACs (as ultralytics' summaries)
  d.channelRule = ChannelRule::Pin;
  d.inferenceOnly = true;
  d.lowered = true;  // the decode itself: passes/lower_detect_decode
  r.add(d);
}

}  // namespace prunelab::ops
