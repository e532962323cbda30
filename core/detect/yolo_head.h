#pragma once
// What the losses and the evaluator need to know about a YOLO graph's head, read from
// its DetectDecode node: style, classes, strides, anchors (v5) and DFL bins (v8/11).
// Graph outputs of a YAML-built detector: the raw level outputs, then the decoded tensor.

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab::detect {

struct YoloHead {
  std::string style;             // "v5" (anchors) or "dfl" (v8/11)
  int64_t nc = 0;
  std::vector<int64_t> strides;  // per level, pixels
  at::Tensor anchors;            // v5: [nl, na, 2] in grid units
  int64_t regMax = 16;           // dfl
  size_t levels() const { return strides.size(); }
};

// Throws prunelab::Error when the graph has no DetectDecode node (not a detector).
YoloHead readYoloHead(const Graph& graph);
bool isDetector(const Graph& graph);

// Cell centres (x + offset, y + offset) of an ny x nx grid, row-major: [ny*nx, 2] as (x, y).
// The YOLO decode (offset -0.5 for v5, +0.5 for v8/11), the v8 loss and the exporters share it.
at::Tensor gridPoints(int64_t ny, int64_t nx, double offset, const at::TensorOptions& options);

}  // namespace prunelab::detect
