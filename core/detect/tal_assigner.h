#pragma once
// Task-aligned assigner (TOOD, Feng et al. 2021) as used by YOLOv8/11: for each ground
// truth, the top-k anchors inside it by alignment = score^alpha * CIoU^beta are
// positives; an anchor claimed by several ground truths keeps the one it overlaps most.
// Target scores are the one-hot class scaled by the normalised alignment.
//
// Shapes (bs images, A anchors, M padded ground truths per image, nc classes):
//   scores [bs, A, nc] (sigmoid, no grad), boxes [bs, A, 4] xyxy pixels (no grad),
//   points [A, 2] pixels, gtLabels [bs, M] int64, gtBoxes [bs, M, 4] xyxy pixels,
//   gtMask [bs, M] bool (padding false).

#include <ATen/core/Tensor.h>

namespace prunelab::detect {

struct Assignment {
  at::Tensor targetBoxes;   // [bs, A, 4] xyxy pixels
  at::Tensor targetScores;  // [bs, A, nc]
  at::Tensor foreground;    // [bs, A] bool
};

struct TalOptions {
  int64_t topk = 10;
  double alpha = 0.5, beta = 6.0;
  double eps = 1e-9;
};

Assignment assignTaskAligned(const at::Tensor& scores, const at::Tensor& boxes, const at::Tensor& points,
                             const at::Tensor& gtLabels, const at::Tensor& gtBoxes, const at::Tensor& gtMask,
                             const TalOptions& o = {});

}  // namespace prunelab::detect
