#pragma once
// Detections on images: what `prunelab-cli predict` and the workbench's Detections view
// show. An image goes through the same letterbox as validation (data/detection/
// detection_augment.h evalLetterbox), the detector, and the same post-processing
// (detect/postprocess.h); boxes come back in the image's own pixels, clipped to it.
// Because the input pixels and the post-processing are those of `evaluateDetector`,
// predict on a validation image finds what eval found there (same batch composition:
// a batch of one here; tests/cli/test_predict.cpp checks it through both CLIs).
//
// Threads: one predictor is used by one thread at a time (it owns a module in eval mode).
// The graph is shared, not copied: do not change it while a predictor uses it.

#include <memory>
#include <string>
#include <vector>

#include "detect/detections.h"
#include "detect/postprocess.h"

namespace cv {
class Mat;
}

namespace prunelab {

class Graph;

struct PredictOptions {
  int imgsz = 0;  // network input size (multiple of 32); 0 = the model's recorded size, else 640
  detect::PostprocessOptions post{0.25f, 0.7f};  // display thresholds, as ultralytics' predict
  std::string device = "cpu";
};

class DetectionPredictor {
 public:
  // `graph`: a YOLO detector (readYoloHead succeeds); throws prunelab::Error otherwise.
  DetectionPredictor(std::shared_ptr<Graph> graph, const PredictOptions& options);
  ~DetectionPredictor();
  DetectionPredictor(const DetectionPredictor&) = delete;
  DetectionPredictor& operator=(const DetectionPredictor&) = delete;

  // rgb: CV_8UC3 RGB images of any sizes, run as one batch. Returns per image its
  // detections, sorted by score, boxes in that image's pixels.
  std::vector<std::vector<Detection>> predict(const std::vector<cv::Mat>& rgb) const;
  int imageSize() const;
  int numClasses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

// Detections found in network-input pixels of a letterboxed image, mapped back to the
// original image's pixels (the inverse of letterboxGeometry) and clipped to it.
struct LetterboxGeometry;
std::vector<Detection> toImagePixels(std::vector<Detection> detections, const LetterboxGeometry& g);

}  // namespace prunelab
