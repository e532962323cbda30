#include "detect/tal_assigner.h"

#include <ATen/ATen.h>

#include "detect/box_ops.h"

namespace prunelab::detect {

Assignment assignTaskAligned(const at::Tensor& scores, const at::Tensor& boxes, const at::Tensor& points,
                             const at::Tensor& gtLabels, const at::Tensor& gtBoxes, const at::Tensor& gtMask,
                             const TalOptions& o) {
  at::NoGradGuard ng;
  const int64_t bs = scores.size(0), A = scores.size(1), nc = scores.size(2), M = gtBoxes.size(1);
  Assignment out;
  if (M == 0) {
    out.targetBoxes = at::zeros_like(boxes);
    out.targetScores = at::zeros_like(scores);
    out.foreground = at::zeros({bs, A}, scores.options().dtype(at::kBool));
    return out;
  }
  // Anchor centres strictly inside each ground truth: [bs, M, A]
  const at::Tensor p = points.view({1, 1, A, 2});
  const at::Tensor lt = p - gtBoxes.narrow(2, 0, 2).unsqueeze(2), rb = gtBoxes.narrow(2, 2, 2).unsqueeze(2) - p;
  const at::Tensor inGt = at::cat({lt, rb}, 3).amin(3) > o.eps;
  const at::Tensor valid = inGt.logical_and(gtMask.unsqueeze(2));  // [bs, M, A]

  // Alignment metric for valid pairs.
  const at::Tensor labels = gtLabels.clamp(0, nc - 1);                                  // [bs, M]
  const at::Tensor scoreOfGt = scores.gather(2, labels.unsqueeze(1).expand({bs, A, M})).transpose(1, 2);  // [bs, M, A]
  const at::Tensor overlapsAll = ciou(gtBoxes.unsqueeze(2).expand({bs, M, A, 4}), boxes.unsqueeze(1).expand({bs, M, A, 4}))
                                     .clamp_min(0);
  const at::Tensor overlaps = overlapsAll * valid;
  const at::Tensor align = scoreOfGt.pow(o.alpha) * overlaps.pow(o.beta) * valid;  // [bs, M, A]

  // Top-k anchors per ground truth.
  const int64_t k = std::min(o.topk, A);
  const at::Tensor topIdx = std::get<1>(align.topk(k, 2));  // [bs, M, k]
  at::Tensor isTop = at::zeros({bs, M, A}, scores.options());
  isTop.scatter_(2, topIdx, 1.0);
  at::Tensor pos = (isTop > 0).logical_and(valid);  // [bs, M, A]

  // Anchors claimed by several ground truths keep the one with the largest overlap.
  const at::Tensor claims = pos.sum(1);  // [bs, A]
  const at::Tensor multi = (claims > 1).unsqueeze(1).expand({bs, M, A});
  const at::Tensor best = overlaps.argmax(1);  // [bs, A]
  at::Tensor bestOneHot = at::zeros({bs, M, A}, pos.options());
  bestOneHot.scatter_(1, best.unsqueeze(1), true);
  pos = at::where(multi, bestOneHot, pos);
  const at::Tensor fg = pos.any(1);            // [bs, A]
  const at::Tensor gtIdx = pos.to(at::kFloat).argmax(1);  // [bs, A]

  // Targets of each anchor.
  const at::Tensor batchOff = (at::arange(bs, gtIdx.options()) * M).unsqueeze(1);
  const at::Tensor flat = (gtIdx + batchOff).view(-1);
  out.targetBoxes = gtBoxes.reshape({-1, 4}).index_select(0, flat).view({bs, A, 4});
  const at::Tensor tLabels = labels.reshape(-1).index_select(0, flat).view({bs, A});
  at::Tensor tScores = at::zeros({bs, A, nc}, scores.options());
  tScores.scatter_(2, tLabels.unsqueeze(2), 1.0);
  tScores = tScores * fg.unsqueeze(2);

  // Normalise: each positive's score = its alignment / the gt's best alignment * the gt's best overlap.
  const at::Tensor alignPos = align * pos;
  const at::Tensor maxAlign = alignPos.amax(2, true);             // [bs, M, 1]
  const at::Tensor maxOverlap = (overlaps * pos).amax(2, true);   // [bs, M, 1]
  const at::Tensor norm = (alignPos * maxOverlap / (maxAlign + o.eps)).amax(1);  // [bs, A]
  out.targetScores = tScores * norm.unsqueeze(2);
  out.foreground = fg;
  return out;
}

}  // namespace prunelab::detect
