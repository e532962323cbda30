#pragma once
// The primitive operations of the IR (close to ONNX). Everything an op *does*
// (forward, shapes, cost, channel rule) lives in its OpSpec entry in ops/op_table.

#include <string>

namespace prunelab {

enum class OpKind {
  Conv,           // weight [O, I/groups, kh, kw], optional bias [O]
  BatchNorm,      // weight, bias [C]; buffers running_mean, running_var, num_batches_tracked
  ReLU,
  ReLU6,
  SiLU,
  LeakyReLU,      // attr negative_slope
  Sigmoid,
  Hardswish,
  Add,            // elementwise, broadcasting
  Mul,            // elementwise, broadcasting
  Concat,         // attr axis
  Split,          // attrs axis, split (sizes); one output per size
  MaxPool,        // attrs kernel, stride, padding, dilation, ceil_mode
  AvgPool,        // attrs kernel, stride, padding, ceil_mode, count_include_pad
  GlobalAvgPool,  // N,C,H,W -> N,C,1,1
  Upsample,       // nearest; attr scale (float, same for H and W)
  Flatten,        // attr start_dim (default 1)
  Linear,         // weight [O, I], optional bias [O]
  Dropout,        // attr p; identity in eval
  Identity,
  Reshape,        // attr shape: 0 copies the input dim, -1 is inferred (ONNX semantics)
  Transpose,      // attr perm
  MatMul,         // batched matrix product; optional attr alpha scales the result
  Softmax,        // attr axis
  Unflatten,      // attrs dim, sizes: splits one dim into several (YOLOv5 head view)
  DetectDecode,   // YOLO inference decode of the raw head outputs (attrs: style, strides, nc...)
  // Added for ONNX import (append only: the names below are stored in checkpoints).
  Constant,       // no inputs; buffer "value" (a fixed tensor, no batch dim: a grid, a scale)
  Sub,            // elementwise, broadcasting
  Div,            // elementwise, broadcasting
  Pow,            // elementwise, broadcasting
  Slice,          // attrs axes, starts, ends, steps (ONNX semantics, ends clamped)
};

inline constexpr int kOpKindCount = static_cast<int>(OpKind::Slice) + 1;

// Stable names, used in native checkpoints and JSON: changing one breaks old files.
const char* opKindName(OpKind kind);
// Throws prunelab::Error for an unknown name.
OpKind opKindFromName(const std::string& name);

}  // namespace prunelab
