#pragma once
// From the decoded head output to final detections: confidence filter, best class per
// box, class-wise NMS. Boxes stay in network-input pixels.
//
// decoded: v5 [bs, N, 5 + nc] (cx, cy, w, h, obj, class probabilities; score = obj * p)
//          dfl [bs, 4 + nc, A] (cx, cy, w, h, class probabilities)
// One label per box (the best class); ultralytics' validation can also emit a box once
// per class above the threshold, which lifts mAP slightly at low confidence.

#include <ATen/core/Tensor.h>

#include <vector>

#include "detect/detections.h"
#include "detect/yolo_head.h"

namespace prunelab::detect {

struct PostprocessOptions {
  float confidence = 0.001f;  // validation default; use ~0.25 for display
  float iou = 0.7f;
  int maxDetections = 300;
  int maxCandidates = 30000;  // boxes entering NMS per image, highest scores first
};

std::vector<std::vector<Detection>> postprocess(const at::Tensor& decoded, const YoloHead& head,
                                                const PostprocessOptions& o = {});

}  // namespace prunelab::detect
