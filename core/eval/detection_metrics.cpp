#include "eval/detection_metrics.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>

#include "util/error.h"

namespace prunelab {

namespace {

// Decimal literals, not 0.5 + 0.05 * t: an IoU of exactly 60/100 must reach 0.6.
constexpr double kIouThresholdValues[DetectionEvaluator::kIouThresholds] = {0.50, 0.55, 0.60, 0.65, 0.70,
                                                                            0.75, 0.80, 0.85, 0.90, 0.95};
constexpr int kRecallPoints = 101;

// pycocotools' recall points: numpy's linspace(0, 1, 101) is i * 0.01 with the end set to 1.
double recallPoint(int i) { return i == kRecallPoints - 1 ? 1.0 : i * 0.01; }

}  // namespace

double DetectionEvaluator::iouThreshold(int t) { return kIouThresholdValues[t]; }

DetectionEvaluator::DetectionEvaluator(int numClasses) : m_numClasses(numClasses) {
  if (numClasses < 1) throw Error("DetectionEvaluator", "numClasses must be >= 1, got " + std::to_string(numClasses));
  m_preds.resize(size_t(numClasses));
  m_gt.assign(size_t(numClasses), 0);
}

void DetectionEvaluator::addImage(const std::vector<Detection>& preds, const std::vector<GroundTruth>& gts) {
  // Validate everything first so that a bad image leaves the evaluator unchanged.
  auto check = [&](int cls, const char* what, size_t index) {
    if (cls < 0 || cls >= m_numClasses)
      throw Error("DetectionEvaluator", std::string(what) + " " + std::to_string(index) + " of image " +
                                            std::to_string(m_images) + " has class " + std::to_string(cls) +
                                            ", outside [0, " + std::to_string(m_numClasses) + ")");
  };
  for (size_t i = 0; i < preds.size(); ++i) check(preds[i].cls, "prediction", i);
  for (size_t i = 0; i < gts.size(); ++i) check(gts[i].cls, "ground truth", i);

  ++m_images;
  std::vector<std::vector<size_t>> gtOfClass(static_cast<size_t>(m_numClasses));
  for (size_t g = 0; g < gts.size(); ++g) {
    gtOfClass[size_t(gts[g].cls)].push_back(g);
    ++m_gt[size_t(gts[g].cls)];
  }
  std::vector<double> gtArea(gts.size());
  for (size_t g = 0; g < gts.size(); ++g) gtArea[g] = boxArea(gts[g].box);

  // Predictions by class, each class by descending score (stable).
  std::vector<size_t> order = byScoreDesc(preds.size(), [&](size_t i) { return preds[i].score; });
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return preds[a].cls < preds[b].cls; });

  std::vector<double> ious;
  std::vector<char> matched;
  for (size_t begin = 0; begin < order.size();) {
    const int cls = preds[order[begin]].cls;
    size_t end = begin;
    while (end < order.size() && preds[order[end]].cls == cls) ++end;
    const std::vector<size_t>& g = gtOfClass[size_t(cls)];
    const size_t np = end - begin, ng = g.size();

    ious.assign(np * ng, 0.0);
    for (size_t p = 0; p < np; ++p) {
      const Box& box = preds[order[begin + p]].box;
      const double a = boxArea(box);
      for (size_t k = 0; k < ng; ++k) ious[p * ng + k] = iouWithAreas(box, a, gts[g[k]].box, gtArea[g[k]]);
    }
    std::vector<unsigned short> masks(np, 0);
    for (int t = 0; t < kIouThresholds; ++t) {
      const double thr = kIouThresholdValues[t];
      matched.assign(ng, 0);
      for (size_t p = 0; p < np; ++p) {
        size_t best = ng;
        for (size_t k = 0; k < ng; ++k) {
          const double v = ious[p * ng + k];
          // Strictly greater keeps the lower GT index on equal IoU.
          if (!matched[k] && v >= thr && (best == ng || v > ious[p * ng + best])) best = k;
        }
        if (best < ng) {
          matched[best] = 1;
          masks[p] = static_cast<unsigned short>(masks[p] | (1u << t));
        }
      }
    }
    for (size_t p = 0; p < np; ++p) m_preds[size_t(cls)].push_back({preds[order[begin + p]].score, masks[p]});
    begin = end;
  }
}

DetectionMetrics DetectionEvaluator::compute() const {
  DetectionMetrics m;
  m.images = m_images;
  m.gtPerClass = m_gt;
  m.ap50PerClass.assign(size_t(m_numClasses), 0.0);
  m.apPerClass.assign(size_t(m_numClasses), 0.0);

  int classesWithGt = 0;
  double sumP = 0.0, sumR = 0.0, sumAp50 = 0.0, sumAp = 0.0;
  std::vector<double> recall, precision;
  for (int c = 0; c < m_numClasses; ++c) {
    const int64_t nGt = m_gt[size_t(c)];
    if (nGt == 0) continue;
    ++classesWithGt;
    const std::vector<Scored>& preds = m_preds[size_t(c)];
    const size_t n = preds.size();
    // Arrival order is image order, so a stable sort gives pycocotools' tie order.
    const std::vector<size_t> order = byScoreDesc(n, [&](size_t i) { return preds[i].score; });

    double apSum = 0.0;
    for (int t = 0; t < kIouThresholds; ++t) {
      recall.resize(n);
      precision.resize(n);
      int64_t tp = 0;
      for (size_t k = 0; k < n; ++k) {
        tp += (preds[order[k]].tpMask >> t) & 1u;
        recall[k] = double(tp) / double(nGt);
        precision[k] = double(tp) / double(k + 1);
      }
      for (size_t k = n; k-- > 1;) precision[k - 1] = std::max(precision[k - 1], precision[k]);
      double sum = 0.0;
      size_t k = 0;
      for (int i = 0; i < kRecallPoints; ++i) {
        const double r = recallPoint(i);
        while (k < n && recall[k] < r) ++k;
        if (k == n) break;  // recall never reaches r: this and all later points are 0
        sum += precision[k];
      }
      const double ap = sum / kRecallPoints;
      if (t == 0) m.ap50PerClass[size_t(c)] = ap;
      apSum += ap;
    }
    m.apPerClass[size_t(c)] = apSum / kIouThresholds;
    sumAp50 += m.ap50PerClass[size_t(c)];
    sumAp += m.apPerClass[size_t(c)];

    // Best-F1 confidence at IoU 0.5. F1 = 2TP / (#pred + nGT) is compared exactly in
    // integers; only cuts after a run of equal scores are thresholds; strict > keeps the
    // highest threshold on ties, and a class without TP keeps P = R = 0.
    int64_t tp = 0, bestTp = 0, bestCount = 0;
    for (size_t k = 0; k < n; ++k) {
      tp += preds[order[k]].tpMask & 1u;
      const bool cut = k + 1 == n || preds[order[k + 1]].score != preds[order[k]].score;
      const int64_t count = int64_t(k + 1);
      if (cut && tp * (bestCount + nGt) > bestTp * (count + nGt)) {
        bestTp = tp;
        bestCount = count;
      }
    }
    if (bestTp > 0) {
      sumP += double(bestTp) / double(bestCount);
      sumR += double(bestTp) / double(nGt);
    }
  }
  if (classesWithGt > 0) {
    m.precision = sumP / classesWithGt;
    m.recall = sumR / classesWithGt;
    m.map50 = sumAp50 / classesWithGt;
    m.map50_95 = sumAp / classesWithGt;
  }
  return m;
}

}  // namespace prunelab
