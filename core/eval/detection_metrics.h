#pragma once
// Detection evaluation: COCO-style AP/mAP (boxes, IoU and class-wise NMS: detect/detections.h).
//
// Plain C++17 and std only (no torch, no Qt), so the same code scores detector outputs
// in the trainer, the CLI and the GUI. Boxes are corner coordinates (x1, y1, x2, y2) in
// any consistent unit. tests/python/detection_map_reference.py is an independent NumPy
// implementation of the same definitions; tests/unit/test_detection_metrics.cpp checks
// that both agree to 1e-9 on hundreds of random cases.

#include <vector>

#include "detect/detections.h"

namespace prunelab {

struct GroundTruth {
  Box box;
  int cls;
};

struct DetectionMetrics {
  // Mean over classes with ground truth of each class's precision and recall at its own
  // best-F1 confidence threshold at IoU 0.5 (see DetectionEvaluator). 0 if no class has GT.
  double precision = 0.0;
  double recall = 0.0;
  double map50 = 0.0;     // mean over classes with GT of AP at IoU 0.50
  double map50_95 = 0.0;  // mean over classes with GT and IoU 0.50, 0.55, ..., 0.95
  // Per class (size numClasses). A class with gtPerClass[c] == 0 has AP 0 here and is
  // left out of every mean, even when it has predictions (as in COCO).
  std::vector<double> ap50PerClass;
  std::vector<double> apPerClass;  // AP averaged over the 10 IoU thresholds
  std::vector<int> gtPerClass;
  int images = 0;  // addImage() calls, including images without GT or predictions
};

// COCO-style evaluation (pycocotools' bbox AP without area ranges, crowd flags or a
// per-image detection cap: apply NMS / maxDetections before addImage).
//
// Matching, per image, class and IoU threshold t in {0.50, 0.55, ..., 0.95}: that class's
// predictions, by descending score (stable), each take the not-yet-matched GT of the same
// class with the highest IoU >= t (ties: the lower GT index; pycocotools takes the higher,
// which only matters for exactly equal IoUs). A matched prediction is a TP, else an FP.
//
// AP per class and threshold: all predictions of the class over all images, by descending
// score (stable: image order, then input order within an image); cumulative TP/FP give
// recall = TP / nGT and precision = TP / (TP + FP) (pycocotools adds 2.2e-16 to the
// denominator, we do not); precision is made non-increasing from the right; AP is the
// mean over the 101 recall points r_i = i * 0.01 in double (exactly numpy's
// linspace(0, 1, 101), so r_35 = 0.35000000000000003 and r_100 = 1) of the precision at the
// first index whose recall >= r_i, or 0 if recall never reaches r_i. No predictions: AP 0.
//
// precision/recall (a simple, documented summary, not ultralytics' mean-F1 threshold):
// per class with GT, at IoU 0.5, the confidence threshold (a cut after a run of equal
// scores, i.e. "all predictions with score >= s") that maximises F1 = 2TP / (#pred + nGT),
// the highest such threshold on ties; that class's precision and recall there (0 and 0 if
// it has no TP at any threshold), averaged over classes with GT.
//
// All accumulation is in double; memory is one small record per prediction.
class DetectionEvaluator {
 public:
  // Throws prunelab::Error if numClasses < 1.
  explicit DetectionEvaluator(int numClasses);

  // One image. Throws prunelab::Error (nothing recorded) if a class id is outside
  // [0, numClasses).
  void addImage(const std::vector<Detection>& preds, const std::vector<GroundTruth>& gts);

  DetectionMetrics compute() const;

  int numClasses() const { return m_numClasses; }

  static constexpr int kIouThresholds = 10;
  // 0.50, 0.55, ..., 0.95 as the nearest doubles to the decimals.
  static double iouThreshold(int t);

 private:
  struct Scored {
    float score;
    unsigned short tpMask;  // bit t: TP at iouThreshold(t)
  };
  int m_numClasses;
  int m_images = 0;
  std::vector<std::vector<Scored>> m_preds;  // per class, in arrival order
  std::vector<int> m_gt;                     // per class
};

}  // namespace prunelab
