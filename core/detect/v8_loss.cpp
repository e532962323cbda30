// YOLOv8/11 loss (see detection_loss.h): task-aligned assignment, then CIoU and
// distribution focal loss on positives, and BCE of class logits against the aligned
// scores, each normalised by the sum of target scores.

#include <ATen/ATen.h>

#include "detect/box_ops.h"
#include "detect/detection_loss.h"
#include "detect/tal_assigner.h"

namespace prunelab::detect {

namespace {

class V8Loss : public DetectionLoss {
 public:
  V8Loss(const YoloHead& h, const LossGains& g) : m_head(h) {
    m_box = g.box >= 0 ? g.box : 7.5;
    m_cls = g.cls >= 0 ? g.cls : 0.5;
    m_dfl = g.objOrDfl >= 0 ? g.objOrDfl : 1.5;
  }
  std::string partName() const override { return "dfl"; }

  LossParts operator()(const std::vector<at::Tensor>& raw, const at::Tensor& targetsIn, int64_t) const override {
    const int64_t R = m_head.regMax, nc = m_head.nc, bs = raw[0].size(0);
    const auto fo = raw[0].options();
    const at::Tensor targets = targetsIn.to(raw[0].device());

    // Flatten levels: [bs, no, A] -> distributions [bs, A, 4R] and class logits [bs, A, nc].
    std::vector<at::Tensor> flat, pts, str;
    for (size_t i = 0; i < raw.size(); ++i) {
      const int64_t ny = raw[i].size(2), nx = raw[i].size(3);
      flat.push_back(raw[i].flatten(2));
      pts.push_back(gridPoints(ny, nx, 0.5, fo));
      str.push_back(at::full({ny * nx, 1}, double(m_head.strides[i]), fo));
    }
    const at::Tensor all = at::cat(flat, 2).permute({0, 2, 1});  // [bs, A, no]
    const at::Tensor predDist = all.narrow(2, 0, 4 * R), predCls = all.narrow(2, 4 * R, nc);
    const at::Tensor points = at::cat(pts, 0), stride = at::cat(str, 0);  // grid units, [A, 1]
    const int64_t A = points.size(0);

    // Decode boxes (grid units): expectation over the R bins of each side.
    const at::Tensor bins = at::arange(R, fo);
    const at::Tensor ltrb = predDist.view({bs, A, 4, R}).softmax(3).matmul(bins);
    const at::Tensor predBoxes = distToBox(ltrb, points);  // [bs, A, 4]

    // Ground truths padded per image: labels [bs, M], boxes [bs, M, 4] xyxy pixels.
    const at::Tensor img = targets.select(1, 0).to(at::kLong);
    const at::Tensor counts = at::bincount(img, {}, bs);
    const int64_t M = targets.size(0) ? counts.max().item<int64_t>() : 0;
    at::Tensor gtLabels = at::zeros({bs, M}, fo.dtype(at::kLong)), gtBoxes = at::zeros({bs, M, 4}, fo);
    at::Tensor gtMask = at::zeros({bs, M}, fo.dtype(at::kBool));
    if (M > 0) {
      // slot of each target within its image (targets are grouped by image)
      const at::Tensor order = img.argsort();
      const at::Tensor sortedImg = img.index_select(0, order);
      const at::Tensor starts = at::cumsum(counts, 0) - counts;
      const at::Tensor slot = at::arange(img.size(0), img.options()) - starts.index_select(0, sortedImg);
      const at::Tensor t = targets.index_select(0, order);
      gtLabels.index_put_({sortedImg, slot}, t.select(1, 1).to(at::kLong));
      gtBoxes.index_put_({sortedImg, slot}, xywhToXyxy(t.narrow(1, 2, 4)));
      gtMask.index_put_({sortedImg, slot}, true);
    }

    const Assignment as = assignTaskAligned(predCls.detach().sigmoid(), (predBoxes.detach() * stride).to(fo.dtype()),
                                            points * stride, gtLabels, gtBoxes, gtMask);
    const at::Tensor scoreSum = as.targetScores.sum().clamp_min(1.0);
    at::Tensor lcls = at::binary_cross_entropy_with_logits(predCls, as.targetScores.to(predCls.dtype()), {}, {},
                                                           at::Reduction::Sum) / scoreSum;
    at::Tensor lbox = at::zeros({}, fo), ldfl = at::zeros({}, fo);
    if (as.foreground.any().item<bool>()) {
      const at::Tensor fg = as.foreground;
      const at::Tensor weight = as.targetScores.sum(2).index({fg}).unsqueeze(1);  // [P, 1]
      const at::Tensor tBoxes = as.targetBoxes / stride;                          // grid units
      const at::Tensor iouV = ciou(predBoxes.index({fg}), tBoxes.index({fg}));
      lbox = ((1.0 - iouV).unsqueeze(1) * weight).sum() / scoreSum;
      // DFL: cross-entropy towards the two bins around each target distance.
      const at::Tensor tDist = boxToDist(points, tBoxes, double(R - 1)).index({fg});  // [P, 4]
      const at::Tensor pd = predDist.index({fg}).view({-1, R});                        // [P*4, R]
      const at::Tensor tl = tDist.view(-1).to(at::kLong), tr = tl + 1;
      const at::Tensor wl = tr.to(fo.dtype()) - tDist.view(-1), wr = 1.0 - wl;
      const at::Tensor logp = pd.log_softmax(1);
      const at::Tensor ce = -(logp.gather(1, tl.unsqueeze(1)).squeeze(1) * wl + logp.gather(1, tr.unsqueeze(1)).squeeze(1) * wr);
      ldfl = (ce.view({-1, 4}).mean(1, true) * weight).sum() / scoreSum;
    }
    return combineLoss(lbox * m_box, ldfl * m_dfl, lcls * m_cls, bs);
  }

 private:
  YoloHead m_head;
  double m_box, m_cls, m_dfl;
};

}  // namespace

std::unique_ptr<DetectionLoss> makeV8Loss(const YoloHead& head, const LossGains& gains) {
  return std::make_unique<V8Loss>(head, gains);
}

}  // namespace prunelab::detect
