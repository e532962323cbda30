#include "detect/detections.h"

#include <algorithm>

namespace prunelab {

double boxArea(const Box& b) {
  return std::max(0.0, double(b.x2) - double(b.x1)) * std::max(0.0, double(b.y2) - double(b.y1));
}

double iouWithAreas(const Box& a, double areaA, const Box& b, double areaB) {
  const double iw = std::min(double(a.x2), double(b.x2)) - std::max(double(a.x1), double(b.x1));
  const double ih = std::min(double(a.y2), double(b.y2)) - std::max(double(a.y1), double(b.y1));
  if (iw <= 0.0 || ih <= 0.0) return 0.0;
  const double inter = iw * ih;
  const double uni = areaA + areaB - inter;
  return uni > 0.0 ? inter / uni : 0.0;
}

float iou(const Box& a, const Box& b) { return float(iouWithAreas(a, boxArea(a), b, boxArea(b))); }

std::vector<Detection> nonMaxSuppression(std::vector<Detection> dets, float iouThreshold, int maxDetections) {
  const size_t n = dets.size();
  const size_t limit = maxDetections < 0 ? n : std::min(n, size_t(maxDetections));
  const std::vector<size_t> order = byScoreDesc(n, [&](size_t i) { return dets[i].score; });
  // The same visiting order grouped by class, so that a kept box scans only the rest of
  // its own class; classEnd[p] is one past the last position of that class.
  std::vector<size_t> byClass = order;
  std::stable_sort(byClass.begin(), byClass.end(), [&](size_t a, size_t b) { return dets[a].cls < dets[b].cls; });
  std::vector<size_t> position(n), classEnd(n);
  for (size_t p = 0; p < n; ++p) position[byClass[p]] = p;
  for (size_t p = n; p-- > 0;)
    classEnd[p] = p + 1 == n || dets[byClass[p + 1]].cls != dets[byClass[p]].cls ? p + 1 : classEnd[p + 1];
  std::vector<double> areas(n);
  for (size_t i = 0; i < n; ++i) areas[i] = boxArea(dets[i].box);

  // Walking the global score order lets us stop at `limit` kept boxes: with an untrained
  // detector's thousands of low-confidence candidates, that bounds the work.
  const double threshold = iouThreshold;
  std::vector<char> suppressed(n, 0);
  std::vector<Detection> out;
  out.reserve(limit);
  for (size_t i : order) {
    if (out.size() == limit) break;
    if (suppressed[i]) continue;
    out.push_back(dets[i]);
    for (size_t p = position[i] + 1; p < classEnd[position[i]]; ++p) {
      const size_t j = byClass[p];
      if (!suppressed[j] && iouWithAreas(dets[i].box, areas[i], dets[j].box, areas[j]) > threshold) suppressed[j] = 1;
    }
  }
  return out;
}

}  // namespace prunelab
