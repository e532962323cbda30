#include "detect/detection_loss.h"

#include <ATen/ATen.h>

namespace prunelab::detect {

LossParts combineLoss(const at::Tensor& box, const at::Tensor& objOrDfl, const at::Tensor& cls, int64_t batchSize) {
  LossParts out;
  out.total = (box + objOrDfl + cls) * double(batchSize);
  out.box = box.item<double>();
  out.objOrDfl = objOrDfl.item<double>();
  out.cls = cls.item<double>();
  return out;
}

std::unique_ptr<DetectionLoss> makeDetectionLoss(const YoloHead& head, const LossGains& gains) {
  return head.style == "v5" ? makeV5Loss(head, gains) : makeV8Loss(head, gains);
}

}  // namespace prunelab::detect
