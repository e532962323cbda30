#pragma once
// Box arithmetic for the YOLO losses, on tensors (autograd flows through).
// Shapes: boxes are [..., 4]; every function broadcasts over the leading dims.

#include <ATen/core/Tensor.h>

namespace prunelab::detect {

at::Tensor xywhToXyxy(const at::Tensor& xywh);  // (cx, cy, w, h) -> (x1, y1, x2, y2)

// Complete IoU (Zheng et al. 2020) of corresponding boxes in xyxy form: [...] (last
// dim reduced). The aspect-ratio trade-off alpha is computed without gradient, as in
// the reference implementations.
at::Tensor ciou(const at::Tensor& box1, const at::Tensor& box2, double eps = 1e-7);

// Plain IoU, xyxy, corresponding boxes.
at::Tensor iou(const at::Tensor& box1, const at::Tensor& box2, double eps = 1e-7);

// DFL geometry: distances (left, top, right, bottom) from anchor points [A, 2] to box
// sides, and back. xyxy boxes.
at::Tensor distToBox(const at::Tensor& ltrb, const at::Tensor& points);
at::Tensor boxToDist(const at::Tensor& points, const at::Tensor& xyxy, double maxDist);

}  // namespace prunelab::detect
