#pragma once
// Detector validation over a loader of DetectionBatches: loss on the raw outputs,
// post-processing (confidence filter + NMS) and COCO-style mAP.

#include <string>

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

// Runs `module` in eval mode without autograd (restores its training flag). `loss` may
// be null (no validation loss).
DetectEvalResult evaluateDetector(GraphModuleImpl& module, const detect::YoloHead& head,
                                  const detect::DetectionLoss* loss, DataLoader& loader, int64_t imgsz,
                                  const std::string& device = "cpu", const detect::PostprocessOptions& post = {},
                                  int epoch = 0);

}  // namespace prunelab
