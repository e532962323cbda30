#pragma once
// Detector validation over a loader of DetectionBatches: loss on the raw outputs,
// post-processing (confidence filter + NMS) and COCO-style mAP.

#include <functional>
#include <string>
#include <vector>

#include "data/data_loader.h"
#include "detect/detection_loss.h"
#include "detect/postprocess.h"
#include "eval/detection_metrics.h"

namespace prunelab {

class GraphModuleImpl;

struct DetectEvalResult {
  DetectionMetrics metrics;
  double loss = 0, box = 0, objOrDfl = 0, cls = 0;  // per batch means (loss = the backprop scale / batch)
  double seconds = 0;
  int64_t images = 0;
};

// Called with each image's dataset index (Batch::indices) and its detections, boxes in
// network-input pixels (data/detection/detection_augment.h letterboxGeometry maps them back).
using DetectionSink = std::function<void(size_t index, const std::vector<Detection>& detections)>;

// Runs `module` in eval mode without autograd (restores its training flag). `loss` may
// be null (no validation loss); `sink`, when set, sees every image's detections.
DetectEvalResult evaluateDetector(GraphModuleImpl& module, const detect::YoloHead& head,
                                  const detect::DetectionLoss* loss, DataLoader& loader, int64_t imgsz,
                                  const std::string& device = "cpu", const detect::PostprocessOptions& post = {},
                                  int epoch = 0, const DetectionSink& sink = {});

}  // namespace prunelab
