#pragma once
// YOLO training losses on the raw head outputs.
//   v5:  anchor matching (ratio < anchor_t, the cell and its two nearest neighbours),
//        CIoU box loss, objectness BCE with IoU targets and per-level balance, class BCE
//        (yolov5's ComputeLoss).
//   dfl: task-aligned assigner, CIoU + distribution focal loss, class BCE against
//        alignment-weighted scores (ultralytics' v8DetectionLoss, also used by YOLO11).
// Both return ultralytics' scaling: (sum of gained components) x batch size, so the
// reference learning rates (lr0 0.01, SGD momentum 0.937) apply as they are.
//
// Shapes: raw[i] = v5 [bs, na, ny, nx, 5 + nc] | dfl [bs, 4 * reg_max + nc, ny, nx];
// targets = float32 [N, 6] (image in batch, class, cx, cy, w, h) in input pixels.
// Threads: stateless apart from the options; call from the training thread.

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "detect/yolo_head.h"

namespace prunelab::detect {

struct LossParts {
  at::Tensor total;     // scalar to backpropagate
  double box = 0, objOrDfl = 0, cls = 0;  // per-image components (before the batch-size factor)
};

struct LossGains {
  double box = -1, cls = -1, objOrDfl = -1;  // -1: the style's defaults
};

class DetectionLoss {
 public:
  virtual ~DetectionLoss() = default;
  virtual LossParts operator()(const std::vector<at::Tensor>& raw, const at::Tensor& targets, int64_t imgsz) const = 0;
  virtual std::string partName() const = 0;  // "obj" (v5) or "dfl"
};

std::unique_ptr<DetectionLoss> makeDetectionLoss(const YoloHead& head, const LossGains& gains = {});

// For implementations: the gained components -> LossParts (total = sum x batch size).
LossParts combineLoss(const at::Tensor& box, const at::Tensor& objOrDfl, const at::Tensor& cls, int64_t batchSize);
std::unique_ptr<DetectionLoss> makeV5Loss(const YoloHead& head, const LossGains& gains);
std::unique_ptr<DetectionLoss> makeV8Loss(const YoloHead& head, const LossGains& gains);

}  // namespace prunelab::detect
