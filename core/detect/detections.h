#pragma once
// Detections as boxes: IoU and class-wise NMS, shared by the YOLO post-processing
// (detect/postprocess.h) and the evaluator (eval/detection_metrics.h).
//
// Plain C++17 and std only (no torch, no Qt), so the same code scores detector outputs
// in the trainer, the CLI and the GUI. Boxes are corner coordinates (x1, y1, x2, y2) in
// any consistent unit. tests/python/detection_map_reference.py is an independent NumPy
// implementation of the same definitions; tests/unit/test_detection_metrics.cpp checks
// that both agree on hundreds of random cases.

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

namespace prunelab {

struct Box {
  float x1, y1, x2, y2;
};

// Intersection over union. A box with x2 < x1 or y2 < y1 has area 0; two boxes whose
// union is empty have IoU 0. Computed in double and rounded once to float; the evaluator
// and NMS compare the double value, so thresholds such as IoU == 0.6 exactly behave as
// written.
float iou(const Box& a, const Box& b);

struct Detection {
  Box box;
  float score;
  int cls;
};

// Class-wise greedy NMS: boxes of different classes never suppress each other.
// Detections are visited by descending score (equal scores keep their input order); a
// visited, unsuppressed detection is kept and suppresses every later detection of its
// class whose IoU with it is strictly greater than `iouThreshold` (torchvision's rule).
// Returns the kept detections sorted by score, descending (stable), at most
// `maxDetections` of them; a negative `maxDetections` means no limit.
std::vector<Detection> nonMaxSuppression(std::vector<Detection> dets, float iouThreshold, int maxDetections);

// The pieces NMS and the evaluator share, so that both compare the same double values.
// Area in double; 0 for x2 < x1 or y2 < y1.
double boxArea(const Box& b);
// The one IoU formula (the NumPy reference uses the same operation order, so both sides
// compare bit-identical values against the thresholds).
double iouWithAreas(const Box& a, double areaA, const Box& b, double areaB);
// Indices of `n` items ordered by descending score, equal scores in index order.
template <typename ScoreOf>
std::vector<size_t> byScoreDesc(size_t n, ScoreOf scoreOf) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scoreOf(a) > scoreOf(b); });
  return order;
}

}  // namespace prunelab
