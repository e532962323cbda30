// Detection metrics: hand-worked AP and NMS cases, then AP/mAP and NMS against the
// independent NumPy reference (tests/python/detection_map_reference.py) on hundreds of
// seeded random cases.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "detect/detections.h"
#include "eval/detection_metrics.h"
#include "test_helpers.h"

using namespace prunelab;
using prunelab::test::errorOf;
using nlohmann::json;

namespace {

const char* const kReference = PRUNELAB_SOURCE_DIR "/tests/python/detection_map_reference.py";

Detection det(float x1, float y1, float x2, float y2, float score, int cls) { return {{x1, y1, x2, y2}, score, cls}; }
GroundTruth gt(float x1, float y1, float x2, float y2, int cls) { return {{x1, y1, x2, y2}, cls}; }

DetectionMetrics evaluate(int numClasses, const std::vector<std::vector<Detection>>& preds,
                          const std::vector<std::vector<GroundTruth>>& gts) {
  DetectionEvaluator e(numClasses);
  for (size_t i = 0; i < preds.size(); ++i) e.addImage(preds[i], gts[i]);
  return e.compute();
}

// Writes `input` into `dir`, runs the reference on it, parses its output into `out`.
// Returns "" on success, else what went wrong.
std::string runReference(const QString& dir, const json& input, bool nms, json& out) {
  const std::string path = dir.toStdString() + (nms ? "/nms_cases.json" : "/map_cases.json");
  std::ofstream(path) << input.dump();  // doubles round-trip exactly: both sides see the same floats
  QProcess p;
  QStringList args{kReference};
  if (nms) args << "--nms";
  args << QString::fromStdString(path);
  p.start(PRUNELAB_PYTHON, args);
  if (!p.waitForFinished(240000)) return "reference did not finish: " + p.errorString().toStdString();
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    return "reference failed: " + p.readAllStandardError().toStdString();
  try {
    out = json::parse(p.readAllStandardOutput().toStdString());
  } catch (const std::exception& e) {
    return std::string("reference output: ") + e.what();
  }
  return {};
}

json boxJson(const Box& b) { return {double(b.x1), double(b.y1), double(b.x2), double(b.y2)}; }

json detJson(const Detection& d) {
  json j = boxJson(d.box);
  j.push_back(double(d.score));
  j.push_back(d.cls);
  return j;
}

struct RandomCase {
  int numClasses = 1;
  std::vector<std::vector<Detection>> preds;
  std::vector<std::vector<GroundTruth>> gts;
};

// Boxes jittered around GT by a random relative amount (so IoUs with their GT spread over
// 0..1), some relabelled, duplicates, free false positives, images without GT, classes
// without GT (some with predictions), sometimes scores on a 0.1 grid (equal-score ties)
// and sometimes an inverted (empty) box.
class CaseGenerator {
 public:
  explicit CaseGenerator(uint32_t seed) : m_rng(seed) {}

  float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(m_rng); }
  int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
  bool chance(double p) { return std::bernoulli_distribution(p)(m_rng); }

  Box randomBox(float extent) {
    const float x = uniform(0, extent), y = uniform(0, extent);
    return {x, y, x + uniform(4, 60), y + uniform(4, 60)};
  }

  Box jitter(const Box& b) {
    const float s = uniform(0.f, 0.5f), w = b.x2 - b.x1, h = b.y2 - b.y1;
    std::normal_distribution<float> n(0.f, 1.f);
    return {b.x1 + s * w * n(m_rng), b.y1 + s * h * n(m_rng), b.x2 + s * w * n(m_rng), b.y2 + s * h * n(m_rng)};
  }

  RandomCase next() {
    RandomCase c;
    c.numClasses = integer(1, 5);
    std::vector<int> gtClasses;
    for (int k = 0; k < c.numClasses; ++k)
      if (chance(0.75)) gtClasses.push_back(k);
    const bool tiedScores = chance(0.3);
    auto score = [&] { return tiedScores ? float(integer(1, 10)) / 10.f : uniform(0.f, 1.f); };
    const int images = chance(0.03) ? 0 : integer(1, 6);
    for (int i = 0; i < images; ++i) {
      std::vector<GroundTruth> gts;
      std::vector<Detection> preds;
      const int nGt = gtClasses.empty() || chance(0.2) ? 0 : integer(1, 6);
      for (int g = 0; g < nGt; ++g) {
        const GroundTruth t{randomBox(150), gtClasses[size_t(integer(0, int(gtClasses.size()) - 1))]};
        gts.push_back(t);
        for (int k = integer(0, 3); k > 0; --k)
          preds.push_back({jitter(t.box), score(), chance(0.85) ? t.cls : integer(0, c.numClasses - 1)});
      }
      for (int k = integer(0, 4); k > 0; --k) preds.push_back({randomBox(200), score(), integer(0, c.numClasses - 1)});
      if (!preds.empty() && chance(0.05)) std::swap(preds[0].box.x1, preds[0].box.x2);
      std::shuffle(preds.begin(), preds.end(), m_rng);
      c.preds.push_back(preds);
      c.gts.push_back(gts);
    }
    return c;
  }

  std::mt19937& rng() { return m_rng; }

 private:
  std::mt19937 m_rng;
};

json caseJson(const RandomCase& c) {
  json images = json::array();
  for (size_t i = 0; i < c.preds.size(); ++i) {
    json preds = json::array(), gts = json::array();
    for (const Detection& d : c.preds[i]) preds.push_back(detJson(d));
    for (const GroundTruth& g : c.gts[i]) {
      json j = boxJson(g.box);
      j.push_back(g.cls);
      gts.push_back(j);
    }
    images.push_back({{"preds", preds}, {"gts", gts}});
  }
  return {{"num_classes", c.numClasses}, {"images", images}};
}

// "" if `m` equals the reference's `ref` within `tol`, else the first difference.
std::string compareMetrics(const DetectionMetrics& m, const json& ref, double tol) {
  auto near = [&](double a, double b) { return std::abs(a - b) <= tol; };
  auto scalar = [&](const char* key, double value) -> std::string {
    const double r = ref.at(key).get<double>();
    return near(value, r) ? "" : std::string(key) + ": " + std::to_string(value) + " vs reference " + std::to_string(r);
  };
  for (auto [key, value] : {std::pair{"map50", m.map50}, std::pair{"map50_95", m.map50_95},
                            std::pair{"precision", m.precision}, std::pair{"recall", m.recall}}) {
    const std::string e = scalar(key, value);
    if (!e.empty()) return e;
  }
  if (ref.at("images").get<int>() != m.images) return "images";
  if (ref.at("gt_per_class").get<std::vector<int>>() != m.gtPerClass) return "gt_per_class";
  const auto ap50 = ref.at("ap50_per_class").get<std::vector<double>>();
  const auto ap = ref.at("ap_per_class").get<std::vector<double>>();
  if (ap50.size() != m.ap50PerClass.size() || ap.size() != m.apPerClass.size()) return "per-class sizes";
  for (size_t k = 0; k < ap.size(); ++k)
    if (!near(ap50[k], m.ap50PerClass[k]) || !near(ap[k], m.apPerClass[k]))
      return "class " + std::to_string(k) + ": AP50 " + std::to_string(m.ap50PerClass[k]) + " vs " +
             std::to_string(ap50[k]) + ", AP " + std::to_string(m.apPerClass[k]) + " vs " + std::to_string(ap[k]);
  return {};
}

}  // namespace

class TestDetectionMetrics : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void iouByHand() {
    const Box a{0, 0, 10, 10};
    QCOMPARE(iou(a, a), 1.f);
    QCOMPARE(iou(a, {0, 0, 10, 6}), 0.6f);                 // 60 / 100
    QCOMPARE(iou(a, {5, 0, 15, 10}), float(50.0 / 150.0));  // 50 / (100 + 100 - 50)
    QCOMPARE(iou(a, {10, 0, 20, 10}), 0.f);                 // touching edges
    QCOMPARE(iou(a, {10, 0, 0, 10}), 0.f);                  // inverted box: empty
    QCOMPARE(iou({1, 1, 1, 1}, {1, 1, 1, 1}), 0.f);         // empty union
  }

  // One class, GT A and B, predictions: A exactly (0.9), a miss (0.8), B exactly (0.7).
  // Cumulative (recall, precision): (0.5, 1), (0.5, 1/2), (1, 2/3); envelope 1, 2/3, 2/3.
  // Recall points r_0..r_50 (r_50 = 50 * 0.01 == 0.5) take precision 1, r_51..r_100 take
  // 2/3: AP = (51 + 50 * 2/3) / 101 = 253/303 at every threshold (the IoUs are 1).
  // F1 = 2TP / (#pred + nGT) over the cuts: 2/3, 1/2, 4/5 -> P = 2/3, R = 1.
  void twoGtThreePredictions() {
    const DetectionMetrics m = evaluate(1, {{det(0, 0, 10, 10, 0.9f, 0), det(50, 50, 60, 60, 0.8f, 0), det(20, 20, 30, 30, 0.7f, 0)}},
                                        {{gt(0, 0, 10, 10, 0), gt(20, 20, 30, 30, 0)}});
    QVERIFY(std::abs(m.map50 - 253.0 / 303.0) < 1e-12);
    QVERIFY(std::abs(m.map50_95 - 253.0 / 303.0) < 1e-12);
    QVERIFY(std::abs(m.precision - 2.0 / 3.0) < 1e-12);
    QCOMPARE(m.recall, 1.0);
    QCOMPARE(m.gtPerClass, std::vector<int>{2});
    QCOMPARE(m.images, 1);
  }

  void perfectDetectorScoresOne() {
    std::vector<std::vector<Detection>> preds(3);
    std::vector<std::vector<GroundTruth>> gts(3);
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 4; ++k) {
        const float x = float(30 * k + i), y = float(7 * i);
        gts[size_t(i)].push_back(gt(x, y, x + 20, y + 25, (i + k) % 3));
        preds[size_t(i)].push_back(det(x, y, x + 20, y + 25, 0.1f + 0.2f * float(k), (i + k) % 3));
      }
    const DetectionMetrics m = evaluate(3, preds, gts);
    QCOMPARE(m.map50, 1.0);
    QCOMPARE(m.map50_95, 1.0);
    QCOMPARE(m.precision, 1.0);
    QCOMPARE(m.recall, 1.0);
    QCOMPARE(m.apPerClass, std::vector<double>(3, 1.0));
    QCOMPARE(m.gtPerClass, std::vector<int>(3, 4));
  }

  // IoU exactly 0.6 (60/100): a TP at 0.50, 0.55 and 0.60 (AP 1 each), an FP at the seven
  // higher thresholds (AP 0: precision 0 at recall 0). AP50 = 1, AP50:95 = 3/10.
  void iouSixTenthsCountsForThreeThresholds() {
    const DetectionMetrics m = evaluate(1, {{det(0, 0, 10, 6, 0.5f, 0)}}, {{gt(0, 0, 10, 10, 0)}});
    QVERIFY(m.map50 == 1.0);
    QVERIFY(m.map50_95 == 0.3);  // (1 + 1 + 1) / 10, exactly
  }

  // GT0 = [0,10], GT1 = [2,12] (x; height 10). P1 = [1,11] has IoU 90/110 = 0.818 with
  // both: the tie goes to GT0, so P2 = [4,14] (IoU 80/120 = 0.667 with GT1, 60/140 = 0.43
  // with GT0) still finds GT1. t = 0.50..0.65: both TP, AP 1. t = 0.70..0.80: P1 TP, P2 FP,
  // AP = 51/101. t = 0.85..0.95: AP 0. AP50:95 = (4 + 3 * 51/101) / 10 = 557/1010.
  void equalIouGoesToLowerGtIndex() {
    const DetectionMetrics m = evaluate(1, {{det(1, 0, 11, 10, 0.9f, 0), det(4, 0, 14, 10, 0.8f, 0)}},
                                        {{gt(0, 0, 10, 10, 0), gt(2, 0, 12, 10, 0)}});
    QCOMPARE(m.map50, 1.0);
    QVERIFY(std::abs(m.map50_95 - 557.0 / 1010.0) < 1e-12);
  }

  // Class 0's only prediction carries class 2 (AP 0); class 1 is perfect (AP 1); class 2
  // has a prediction but no GT and stays out of the means: mAP = (0 + 1) / 2.
  void wrongClassAndClassWithoutGt() {
    const DetectionMetrics m =
        evaluate(3, {{det(0, 0, 10, 10, 0.9f, 2), det(20, 20, 30, 30, 0.8f, 1)}}, {{gt(0, 0, 10, 10, 0), gt(20, 20, 30, 30, 1)}});
    QCOMPARE(m.ap50PerClass, (std::vector<double>{0.0, 1.0, 0.0}));
    QCOMPARE(m.gtPerClass, (std::vector<int>{1, 1, 0}));
    QCOMPARE(m.map50, 0.5);
    QCOMPARE(m.map50_95, 0.5);
    QCOMPARE(m.precision, 0.5);
    QCOMPARE(m.recall, 0.5);
  }

  // A confidence threshold cannot split equal scores: a TP and an FP both at 0.9 give
  // P = 1/2 (not 1) at the only cut. AP still orders them (stable) and is 1.
  void bestF1CutKeepsEqualScoresTogether() {
    const DetectionMetrics m =
        evaluate(1, {{det(0, 0, 10, 10, 0.9f, 0), det(40, 40, 50, 50, 0.9f, 0)}}, {{gt(0, 0, 10, 10, 0)}});
    QCOMPARE(m.precision, 0.5);
    QCOMPARE(m.recall, 1.0);
    QCOMPARE(m.map50, 1.0);
  }

  void emptyInputs() {
    const DetectionMetrics none = evaluate(2, {}, {});
    QCOMPARE(none.images, 0);
    QCOMPARE(none.map50, 0.0);
    QCOMPARE(none.ap50PerClass, std::vector<double>(2, 0.0));
    const DetectionMetrics noPreds = evaluate(2, {{}, {}}, {{gt(0, 0, 5, 5, 1)}, {}});
    QCOMPARE(noPreds.images, 2);
    QCOMPARE(noPreds.map50, 0.0);
    QCOMPARE(noPreds.map50_95, 0.0);
    QCOMPARE(noPreds.precision, 0.0);
    QCOMPARE(noPreds.recall, 0.0);
    const DetectionMetrics noGt = evaluate(2, {{det(0, 0, 5, 5, 0.5f, 0)}, {}}, {{}, {}});
    QCOMPARE(noGt.images, 2);
    QCOMPARE(noGt.map50, 0.0);
    QCOMPARE(noGt.recall, 0.0);
  }

  void badClassIsAnErrorAndRecordsNothing() {
    DetectionEvaluator e(3);
    std::string err = errorOf([&] { e.addImage({det(0, 0, 1, 1, 0.5f, 0)}, {gt(0, 0, 1, 1, 3)}); });
    QVERIFY2(err.find("class 3") != std::string::npos, err.c_str());
    err = errorOf([&] { e.addImage({det(0, 0, 1, 1, 0.5f, -1)}, {}); });
    QVERIFY2(err.find("class -1") != std::string::npos, err.c_str());
    QCOMPARE(e.compute().images, 0);
    QCOMPARE(e.compute().gtPerClass, std::vector<int>(3, 0));
    QVERIFY(!errorOf([] { DetectionEvaluator bad(0); }).empty());
  }

  // D (0.9, class 0) comes before A (0.9, class 0, IoU 0.95 with D): equal scores keep
  // input order, so D is kept and suppresses A. B has A's box but class 1: kept. C (IoU
  // 85.5/109.5 = 0.78 with D) is suppressed; E is far away; F has IoU exactly 0.5 with B, which is
  // not > 0.5: kept.
  void nmsByHand() {
    const std::vector<Detection> dets = {det(0, 0, 10, 9.5f, 0.9f, 0),  det(0, 0, 10, 10, 0.9f, 0),  // D, A
                                         det(0, 0, 10, 10, 0.8f, 1),    det(1, 0, 11, 10, 0.7f, 0),  // B, C
                                         det(50, 50, 60, 60, 0.6f, 0),  det(0, 0, 10, 5, 0.5f, 1)};  // E, F
    auto scores = [](const std::vector<Detection>& v) {
      std::vector<std::pair<float, int>> s;
      for (const Detection& d : v) s.emplace_back(d.score, d.cls);
      return s;
    };
    const std::vector<Detection> kept = nonMaxSuppression(dets, 0.5f, -1);
    QCOMPARE(scores(kept), (std::vector<std::pair<float, int>>{{0.9f, 0}, {0.8f, 1}, {0.6f, 0}, {0.5f, 1}}));
    QCOMPARE(kept[0].box.y2, 9.5f);  // D, not A
    QCOMPARE(nonMaxSuppression(dets, 0.5f, 2).size(), size_t(2));
    QCOMPARE(scores(nonMaxSuppression(dets, 0.5f, 2)), (std::vector<std::pair<float, int>>{{0.9f, 0}, {0.8f, 1}}));
    QVERIFY(nonMaxSuppression(dets, 0.5f, 0).empty());
    QVERIFY(nonMaxSuppression({}, 0.5f, 300).empty());
    // Threshold 0.96: the highest same-class IoU is 0.95 (A with D), so nothing is suppressed.
    QCOMPARE(nonMaxSuppression(dets, 0.96f, -1).size(), dets.size());
  }

  void mapMatchesReferenceOnRandomCases() {
    CaseGenerator gen(20240607);
    std::vector<RandomCase> cases;
    json input = {{"cases", json::array()}};
    int iouBins[10] = {};
    for (int i = 0; i < 400; ++i) {
      cases.push_back(gen.next());
      input["cases"].push_back(caseJson(cases.back()));
      // Generator sanity: best IoU of each prediction with a GT of its image.
      for (size_t k = 0; k < cases.back().preds.size(); ++k)
        for (const Detection& d : cases.back().preds[k]) {
          float best = 0.f;
          for (const GroundTruth& g : cases.back().gts[k]) best = std::max(best, iou(d.box, g.box));
          if (best > 0.f) ++iouBins[std::min(9, int(best * 10))];
        }
    }
    for (int b = 0; b < 10; ++b) QVERIFY2(iouBins[b] >= 100, qPrintable(QString("IoU bin %1 nearly empty").arg(b)));

    json ref;
    const std::string err = runReference(m_dir.path(), input, false, ref);
    QVERIFY2(err.empty(), err.c_str());
    QCOMPARE(ref.at("results").size(), cases.size());
    int partial = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
      const DetectionMetrics m = evaluate(cases[i].numClasses, cases[i].preds, cases[i].gts);
      const std::string diff = compareMetrics(m, ref["results"][i], 1e-9);
      QVERIFY2(diff.empty(), qPrintable(QString("case %1: %2").arg(i).arg(QString::fromStdString(diff))));
      partial += m.map50_95 > 0.05 && m.map50_95 < 0.95;
    }
    // The cases must exercise the interesting middle, not just 0 and 1.
    QVERIFY2(partial > 200, qPrintable(QString::number(partial)));
  }

  void nmsMatchesReferenceOnRandomSets() {
    CaseGenerator gen(77);
    std::vector<std::vector<Detection>> sets;
    std::vector<float> thresholds;
    std::vector<int> limits;
    json input = {{"cases", json::array()}};
    for (int i = 0; i < 200; ++i) {
      std::vector<Detection> dets;
      const int n = gen.integer(0, 150), classes = gen.integer(1, 4);
      const bool tied = gen.chance(0.3);
      for (int k = 0; k < n; ++k)
        dets.push_back({gen.randomBox(80), tied ? float(gen.integer(1, 10)) / 10.f : gen.uniform(0.f, 1.f),
                        gen.integer(0, classes - 1)});
      sets.push_back(dets);
      thresholds.push_back(gen.uniform(0.2f, 0.8f));
      limits.push_back(std::vector<int>{-1, 5, 30, 300}[size_t(gen.integer(0, 3))]);
      json d = json::array();
      for (const Detection& x : dets) d.push_back(detJson(x));
      input["cases"].push_back({{"dets", d}, {"iou", double(thresholds.back())}, {"max_det", limits.back()}});
    }
    json ref;
    const std::string err = runReference(m_dir.path(), input, true, ref);
    QVERIFY2(err.empty(), err.c_str());
    QCOMPARE(ref.at("results").size(), sets.size());
    size_t total = 0, kept = 0;
    for (size_t i = 0; i < sets.size(); ++i) {
      const std::vector<Detection> out = nonMaxSuppression(sets[i], thresholds[i], limits[i]);
      const auto keep = ref["results"][i].at("keep").get<std::vector<size_t>>();
      QVERIFY2(out.size() == keep.size(), qPrintable(QString("set %1: %2 kept, reference %3").arg(i).arg(out.size()).arg(keep.size())));
      for (size_t k = 0; k < keep.size(); ++k) {
        const Detection& e = sets[i][keep[k]];
        const Detection& a = out[k];
        QVERIFY2(a.score == e.score && a.cls == e.cls && a.box.x1 == e.box.x1 && a.box.y1 == e.box.y1 &&
                     a.box.x2 == e.box.x2 && a.box.y2 == e.box.y2,
                 qPrintable(QString("set %1: detection %2 differs").arg(i).arg(k)));
      }
      total += sets[i].size();
      kept += out.size();
    }
    QVERIFY2(kept < total * 3 / 4, "random sets should be crowded enough to suppress");
  }
};

QTEST_GUILESS_MAIN(TestDetectionMetrics)
#include "test_detection_metrics.moc"
