#pragma once
// Pass: the YOLO inference decode (DetectDecode) in primitive ops - the one place the
// decode is written. The executor runs these primitives, and the ONNX and TorchScript
// exporters write them (each primitive through its own OpSpec form), so the three
// cannot disagree.
//
// lowerDetectDecode(decode, inputShapes) returns a fragment: a Graph whose inputs are
// the decode's inputs (shapes as given, batch included) and whose one output is the
// decoded tensor (see ops/detect_ops.cpp for the styles' layouts). Grids, strides and
// anchors in pixels are Constant nodes, built at the given spatial sizes at full
// broadcast shape (OpenCV DNN 4.6 cannot broadcast a 5-D operand over inner dims); every
// Reshape copies the batch (0), so the fragment serves any batch size. The DFL
// expectation is a 1x1 Conv whose "weight" is the decode's own "weight" tensor (shared).
// Fragment nodes are named "<decode name>/<step>" and carry the decode's scope.

#include <vector>

#include "graph/graph.h"

namespace prunelab::passes {

Graph lowerDetectDecode(const Node& decode, const std::vector<Shape>& inputShapes);

}  // namespace prunelab::passes
