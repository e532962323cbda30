#include "detect/box_ops.h"

#include <ATen/ATen.h>

#include <cmath>

namespace prunelab::detect {

at::Tensor xywhToXyxy(const at::Tensor& b) {
  const at::Tensor xy = b.narrow(-1, 0, 2), half = b.narrow(-1, 2, 2) / 2;
  return at::cat({xy - half, xy + half}, -1);
}

at::Tensor iou(const at::Tensor& a, const at::Tensor& b, double eps) {
  const at::Tensor ix1 = at::max(a.select(-1, 0), b.select(-1, 0)), iy1 = at::max(a.select(-1, 1), b.select(-1, 1));
  const at::Tensor ix2 = at::min(a.select(-1, 2), b.select(-1, 2)), iy2 = at::min(a.select(-1, 3), b.select(-1, 3));
  const at::Tensor inter = (ix2 - ix1).clamp_min(0) * (iy2 - iy1).clamp_min(0);
  const at::Tensor areaA = (a.select(-1, 2) - a.select(-1, 0)) * (a.select(-1, 3) - a.select(-1, 1));
  const at::Tensor areaB = (b.select(-1, 2) - b.select(-1, 0)) * (b.select(-1, 3) - b.select(-1, 1));
  return inter / (areaA + areaB - inter + eps);
}

at::Tensor ciou(const at::Tensor& a, const at::Tensor& b, double eps) {
  const at::Tensor ax1 = a.select(-1, 0), ay1 = a.select(-1, 1), ax2 = a.select(-1, 2), ay2 = a.select(-1, 3);
  const at::Tensor bx1 = b.select(-1, 0), by1 = b.select(-1, 1), bx2 = b.select(-1, 2), by2 = b.select(-1, 3);
  const at::Tensor w1 = ax2 - ax1, h1 = ay2 - ay1 + eps, w2 = bx2 - bx1, h2 = by2 - by1 + eps;
  const at::Tensor inter = (at::min(ax2, bx2) - at::max(ax1, bx1)).clamp_min(0) *
                           (at::min(ay2, by2) - at::max(ay1, by1)).clamp_min(0);
  const at::Tensor uni = w1 * h1 + w2 * h2 - inter + eps;
  const at::Tensor iouV = inter / uni;
  const at::Tensor cw = at::max(ax2, bx2) - at::min(ax1, bx1);  // enclosing box
  const at::Tensor ch = at::max(ay2, by2) - at::min(ay1, by1);
  const at::Tensor c2 = cw.pow(2) + ch.pow(2) + eps;
  const at::Tensor rho2 = ((bx1 + bx2 - ax1 - ax2).pow(2) + (by1 + by2 - ay1 - ay2).pow(2)) / 4;
  const at::Tensor v = (4.0 / (M_PI * M_PI)) * (at::atan(w2 / h2) - at::atan(w1 / h1)).pow(2);
  at::Tensor alpha;
  {
    at::NoGradGuard ng;
    alpha = v / (v - iouV + (1 + eps));
  }
  return iouV - (rho2 / c2 + v * alpha);
}

at::Tensor distToBox(const at::Tensor& ltrb, const at::Tensor& points) {
  return at::cat({points - ltrb.narrow(-1, 0, 2), points + ltrb.narrow(-1, 2, 2)}, -1);
}

at::Tensor boxToDist(const at::Tensor& points, const at::Tensor& xyxy, double maxDist) {
  return at::cat({points - xyxy.narrow(-1, 0, 2), xyxy.narrow(-1, 2, 2) - points}, -1).clamp(0, maxDist - 0.01);
}

}  // namespace prunelab::detect
