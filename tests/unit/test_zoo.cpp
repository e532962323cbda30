// The built-in models: published parameter and MAC counts, PyTorch module names,
// and a forward pass at each model's default input.

#include <ATen/ATen.h>

#include <QtTest/QtTest>
#include <cmath>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "models/zoo.h"

using namespace prunelab;

namespace {
GraphCost costOf(const std::string& name, int64_t classes, const Shape& input) {
  ZooOptions o;
  o.numClasses = classes;
  Graph g = buildZooModel(name, o);
  inferShapes(g, input);
  return computeCost(g);
}
}  // namespace

class TestZoo : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void publishedCounts_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<qlonglong>("params");
    QTest::addColumn<double>("macs");      // 0: not checked
    QTest::addColumn<double>("tolerance");  // relative, for MACs (and params when inexact)
    QTest::addColumn<QString>("input");
    // Issue #2 / seed 001: ResNet-18 on CIFAR-10 inputs, torchinfo's 37.03M Mult-Adds.
    QTest::newRow("resnet18") << "resnet18" << 11181642LL << 37.03e6 << 0.005 << "3x32x32";
    QTest::newRow("resnet20") << "resnet20" << 272474LL << 41.0e6 << 0.05 << "3x32x32";
    QTest::newRow("resnet56") << "resnet56" << 855770LL << 126e6 << 0.01 << "3x32x32";
    QTest::newRow("mobilenet_v2") << "mobilenet_v2" << 2236682LL << 0.0 << 0.0 << "3x224x224";
    QTest::newRow("resnet34") << "resnet34" << 21289802LL << 0.0 << 0.0 << "3x32x32";
    QTest::newRow("vgg16_bn") << "vgg16_bn" << 15253578LL << 0.0 << 0.0 << "3x32x32";
    QTest::newRow("vgg11_bn") << "vgg11_bn" << 9756426LL << 0.0 << 0.0 << "3x32x32";
  }
  void publishedCounts() {
    QFETCH(QString, model);
    QFETCH(qlonglong, params);
    QFETCH(double, macs);
    QFETCH(double, tolerance);
    QFETCH(QString, input);
    const GraphCost c = costOf(model.toStdString(), 10, parseShape(input.toStdString()));
    QCOMPARE(static_cast<qlonglong>(c.params), params);
    if (macs > 0)
      QVERIFY2(std::abs(static_cast<double>(c.macs) - macs) <= tolerance * macs,
               qPrintable(QString("MACs %1, expected %2").arg(c.macs).arg(macs)));
  }

  // Hand count for ResNet-18 at 3x32x32: conv weights x output positions, BN 2C, fc 5130.
  void resnet18MacsByHand() {
    const GraphCost c = costOf("resnet18", 10, {3, 32, 32});
    const int64_t conv = 64 * 3 * 49 * 256 + 4 * 64 * 64 * 9 * 64 +           // stem, layer1
                         (128 * 64 * 9 + 3 * 128 * 128 * 9 + 64 * 128) * 16 +  // layer2 at 4x4
                         (256 * 128 * 9 + 3 * 256 * 256 * 9 + 128 * 256) * 4 +  // layer3 at 2x2
                         (512 * 256 * 9 + 3 * 512 * 512 * 9 + 256 * 512);       // layer4 at 1x1
    const int64_t bn = 2 * (64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512);
    QCOMPARE(c.macs, conv + bn + 5130);
  }

  void defaultClassesAndChannels() {
    QCOMPARE(costOf("resnet18", -1, {3, 64, 64}).layers.back().outputShape, (Shape{1, 1000}));
    ZooOptions o;
    o.inChannels = 1;
    Graph g = buildZooModel("resnet20", o);
    inferShapes(g, Shape{1, 28, 28});
    QCOMPARE(g.value(g.outputs()[0]).shape, (Shape{1, 10}));
    QCOMPARE(g.metadata().at("input"), std::string("1x32x32"));
  }

  void torchvisionNames() {
    Graph g = buildZooModel("mobilenet_v2", {});
    std::set<std::string> keys;
    for (const auto& [k, t] : g.stateDict()) keys.insert(k);
    for (const char* k : {"features.0.0.weight", "features.0.1.running_var", "features.1.conv.0.0.weight",
                          "features.1.conv.1.weight", "features.2.conv.3.num_batches_tracked",
                          "features.18.1.bias", "classifier.1.weight"})
      QVERIFY2(keys.count(k), k);
    Graph r = buildZooModel("resnet18", {});
    QVERIFY(r.findNode("layer2.0.downsample.0") != nullptr);
    QVERIFY(r.findNode("fc") != nullptr);
  }

  void everyModelRuns() {
    for (const auto& e : zooModels()) {
      Graph g = buildZooModel(e.name, {});
      const Shape in = e.defaultInput[1] > 64 ? Shape{3, 64, 64} : e.defaultInput;
      at::Tensor x = at::randn({2, in[0], in[1], in[2]});
      auto out = runInference(g, {x});
      QCOMPARE(out.size(), size_t(1));
      QCOMPARE(out[0].sizes().vec(), (std::vector<int64_t>{2, e.defaultClasses}));
      QVERIFY(out[0].isfinite().all().item<bool>());
    }
  }

  void unknownModelListsKnownOnes() {
    try {
      buildZooModel("resnet1000", {});
      QFAIL("no error");
    } catch (const std::exception& e) {
      QVERIFY(std::string(e.what()).find("resnet1000") != std::string::npos);
      QVERIFY(std::string(e.what()).find("mobilenet_v2") != std::string::npos);
    }
  }
};

QTEST_APPLESS_MAIN(TestZoo)
#include "test_zoo.moc"
