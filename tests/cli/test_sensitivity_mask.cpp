// The Mask sensitivity sweep computes what the Surgery sweep computes (pruning/sensitivity.h):
// - on ResNet-20 and YOLOv8n with realistic BatchNorm (cut channels output non-zero
//   constants, so zeroing a producer instead of its readers would show), with a continuous
//   metric (output fidelity on a fixed batch): every cell's removed count, params and MACs
//   equal, the metric within 1e-6; the caller's model is left as it was;
// - through the Session on real data: the demo ResNet-20 on 128 Fashion-MNIST test images
//   (top-1) and the demo detector on a small fashion-det (mAP50-95, a few groups);
// - a collapsed series stops: the higher ratios repeat its metric, marked not measured,
//   and the mark survives the JSON file.

#include <torch/torch.h>

#include <QtTest/QtTest>
#include <algorithm>
#include <cmath>
#include <memory>

#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "graph/input_shape.h"
#include "models/yolo/yolo_builder.h"
#include "models/zoo.h"
#include "pruning/sensitivity.h"
#include "session/session.h"
#include "synthetic_models.h"
#include "test_helpers.h"

using namespace prunelab;

namespace {

// 1 - relative squared error of every output against the unpruned model's on `x`.
SensitivityMetric fidelity(const Graph& model, const at::Tensor& x) {
  Graph copy = model.share();
  auto reference = std::make_shared<std::vector<at::Tensor>>(runInference(copy, {x}));
  return [reference, x](const std::shared_ptr<Graph>& g) {
    const std::vector<at::Tensor> y = runInference(*g, {x});
    double err = 0.0, norm = 0.0;
    for (size_t i = 0; i < y.size(); ++i) {
      err += (y[i] - (*reference)[i]).pow(2).sum().item<double>();
      norm += (*reference)[i].pow(2).sum().item<double>();
    }
    return 1.0 - err / norm;
  };
}

// Every cell alike but the metric, which may differ by `tolerance`; `worst`: the largest
// metric difference.
void compareTables(const SensitivityTable& mask, const SensitivityTable& surgery, double tolerance, double& worst) {
  QCOMPARE(mask.rows.size(), surgery.rows.size());
  worst = std::abs(mask.baseline - surgery.baseline);
  for (size_t r = 0; r < mask.rows.size(); ++r) {
    const SensitivityRow &a = mask.rows[r], &b = surgery.rows[r];
    QCOMPARE(a.group, b.group);
    QCOMPARE(a.cells.size(), b.cells.size());
    for (size_t c = 0; c < a.cells.size(); ++c) {
      QCOMPARE(a.cells[c].removed, b.cells[c].removed);
      QCOMPARE(a.cells[c].params, b.cells[c].params);
      QCOMPARE(a.cells[c].macs, b.cells[c].macs);
      QCOMPARE(a.cells[c].measured, b.cells[c].measured);
      const double diff = std::abs(a.cells[c].metric - b.cells[c].metric);
      worst = std::max(worst, diff);
      QVERIFY2(diff <= tolerance, qPrintable(QString("%1 at %2: mask %3, surgery %4")
                                                 .arg(QString::fromStdString(a.group))
                                                 .arg(a.cells[c].ratio)
                                                 .arg(a.cells[c].metric, 0, 'g', 10)
                                                 .arg(b.cells[c].metric, 0, 'g', 10)));
    }
  }
}

// Both methods on `model`; the mask sweep must leave the model's tensors untouched.
std::pair<SensitivityTable, SensitivityTable> bothMethods(const Graph& model, const Shape& input,
                                                          const SensitivityMetric& metric, SensitivityOptions o) {
  std::vector<at::Tensor> before;
  for (const auto& [key, t] : model.stateDict()) before.push_back(t.clone());
  o.method = SensitivityMethod::Mask;
  SensitivityTable mask = sweepSensitivity(model, input, metric, o);
  size_t i = 0;
  for (const auto& [key, t] : model.stateDict())
    if (!at::equal(t, before.at(i++))) QTest::qFail(("the mask sweep changed " + key).c_str(), __FILE__, __LINE__);
  o.method = SensitivityMethod::Surgery;
  SensitivityTable surgery = sweepSensitivity(model, input, metric, o);
  return {std::move(mask), std::move(surgery)};
}

// Five keys spread over the model: the first, last and three between.
std::vector<std::string> spreadKeys(const Graph& g) {
  const DependencyGraph deps(g);
  const std::vector<std::string> keys = sensitivityKeys(deps);
  std::vector<std::string> prunable;
  for (const Group& grp : deps.groups())
    if (grp.prunable()) prunable.push_back(keys[static_cast<size_t>(grp.id)]);
  std::vector<std::string> out;
  for (size_t k = 0; k < 5; ++k) out.push_back(prunable[k * (prunable.size() - 1) / 4]);
  return out;
}

}  // namespace

class TestSensitivityMask : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void maskEqualsSurgeryOnResNet20() {
    Graph g = zoo::cifarResNet(20, 10, 1);
    test::randomiseBatchNorm(g, 5);
    const Shape input{1, 28, 28};
    inferShapes(g, input);
    at::manual_seed(2);
    SensitivityOptions o;
    o.ratios = {0.25, 0.5};
    o.latency = false;
    o.stopBelow = 0;
    const auto [mask, surgery] = bothMethods(g, input, fidelity(g, at::randn({8, 1, 28, 28})), o);
    QCOMPARE(mask.method, std::string("mask"));
    QCOMPARE(mask.rows.size(), size_t(12));
    double worst = -1;
    compareTables(mask, surgery, 1e-6, worst);
    if (QTest::currentTestFailed()) return;
    qInfo("resnet20, %zu groups x 2 ratios: largest metric difference %.3g", mask.rows.size(), worst);
  }

  void maskEqualsSurgeryOnYolov8n() {
    YoloOptions yo;
    yo.inputSize = 96;
    Graph g = buildYoloModel("yolov8n", yo);
    test::randomiseBatchNorm(g, 6);
    const Shape input = defaultInputShape(g);
    inferShapes(g, input);
    at::manual_seed(3);
    SensitivityOptions o;
    o.ratios = {0.25, 0.5};
    o.latency = false;
    o.stopBelow = 0;
    o.groups = spreadKeys(g);
    const auto [mask, surgery] = bothMethods(g, input, fidelity(g, at::randn({2, 3, 96, 96})), o);
    QCOMPARE(mask.rows.size(), size_t(5));
    double worst = -1;
    compareTables(mask, surgery, 1e-6, worst);
    if (QTest::currentTestFailed()) return;
    qInfo("yolov8n at 96 px, 5 groups x 2 ratios: largest metric difference %.3g", worst);
  }

  // The demo ResNet-20 (trained on Fashion-MNIST) on 128 test images: top-1 per cell.
  void sessionMaskEqualsSurgeryOnFashionMnist() {
    Session session;
    DataSpec spec;
    spec.spec = "fashion-mnist";
    session.openData(spec);
    ModelRequest m;
    m.model = std::string(PRUNELAB_SOURCE_DIR) + "/resources/demo/classifier.plm";
    session.loadModelForData(m);
    SensitivityOptions o;
    o.ratios = {0.25, 0.5};
    o.latency = false;
    o.stopBelow = 0;
    o.method = SensitivityMethod::Mask;
    const SensitivityTable mask = session.sweepSensitivity(o, 128);
    o.method = SensitivityMethod::Surgery;
    const SensitivityTable surgery = session.sweepSensitivity(o, 128);
    QCOMPARE(mask.valImages, int64_t(128));
    QVERIFY(mask.baseline > 0.5);
    double worst = -1;
    compareTables(mask, surgery, 1e-6, worst);
    if (QTest::currentTestFailed()) return;
    qInfo("demo resnet20 on 128 fashion-mnist images: baseline top-1 %.4f, largest difference %.3g", mask.baseline, worst);
  }

  // The demo detector (YOLOv8 layout, 160 px) on 24 fashion-det validation images.
  void sessionMaskEqualsSurgeryOnFashionDet() {
    const QTemporaryDir dir;
    const auto made = test::runCli({"make-dataset", "fashion-det", "--out", dir.path(), "--train", "4", "--val", "24"});
    QVERIFY2(made.code == 0, made.err.c_str());
    Session session;
    DataSpec spec;
    spec.spec = dir.filePath("data.yaml").toStdString();
    session.openData(spec);
    ModelRequest m;
    m.model = std::string(PRUNELAB_SOURCE_DIR) + "/resources/demo/detector.plm";
    session.loadModelForData(m);
    SensitivityOptions o;
    o.ratios = {0.25, 0.5};
    o.latency = false;
    o.stopBelow = 0;
    o.groups = spreadKeys(session.model());
    o.method = SensitivityMethod::Mask;
    const SensitivityTable mask = session.sweepSensitivity(o, 0);
    o.method = SensitivityMethod::Surgery;
    const SensitivityTable surgery = session.sweepSensitivity(o, 0);
    QCOMPARE(mask.metric, std::string("mAP50-95"));
    QVERIFY(mask.baseline > 0.05);
    double worst = -1;
    compareTables(mask, surgery, 1e-6, worst);
    if (QTest::currentTestFailed()) return;
    qInfo("demo detector on 24 fashion-det images: baseline mAP50-95 %.4f, largest difference %.3g", mask.baseline, worst);
  }

  void collapsedSeriesStopsAndIsMarked() {
    Graph g = zoo::cifarResNet(20, 10, 3);
    inferShapes(g, Shape{3, 32, 32});
    SensitivityOptions o;
    o.ratios = {0.1, 0.3, 0.5};
    o.latency = false;
    o.stopBelow = 0.5;
    int calls = 0;
    // The unpruned model scores 1; a cut scores 0.9 at 10 % and 0.2 from then on - but the
    // metric cannot tell ratios apart on the masked model, so count: call 1 + 3k is 10 %.
    const SensitivityTable t = sweepSensitivity(
        g, Shape{3, 32, 32}, [&](const std::shared_ptr<Graph>&) { return calls++ == 0 ? 1.0 : (calls % 2 == 0 ? 0.9 : 0.2); }, o);
    QVERIFY(!t.rows.empty());
    // Per row: 10 % measured (0.9, call 2k), 30 % measured (0.2, collapsed), 50 % repeated.
    for (const SensitivityRow& row : t.rows) {
      QCOMPARE(row.cells.size(), size_t(3));
      QVERIFY(row.cells[0].measured && row.cells[1].measured && !row.cells[2].measured);
      QCOMPARE(row.cells[0].metric, 0.9);
      QCOMPARE(row.cells[2].metric, row.cells[1].metric);
      QVERIFY(row.cells[2].macs < row.cells[1].macs);  // still the cut's own cost
    }
    QCOMPARE(calls, 1 + 2 * static_cast<int>(t.rows.size()));
    const QTemporaryDir dir;
    const std::string path = dir.filePath("s.json").toStdString();
    writeSensitivityJson(t, path);
    const SensitivityTable r = readSensitivityJson(path);
    QVERIFY(!r.rows[0].cells[2].measured && r.rows[0].cells[1].measured);
    QCOMPARE(r.stopBelow, 0.5);
    QCOMPARE(r.method, std::string("mask"));
  }
};

QTEST_GUILESS_MAIN(TestSensitivityMask)
#include "test_sensitivity_mask.moc"
