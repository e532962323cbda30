// Detection data: YOLO label and data.yaml parsing (clear errors), the fashion-det
// generator, letterbox/mosaic batches.

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>

#include "data/data_loader.h"
#include "data/detection/detection_batches.h"
#include "data/detection/detection_dataset.h"
#include "data/detection/fashion_det.h"
#include "test_helpers.h"

using namespace prunelab;
namespace fs = std::filesystem;

namespace {

void writeText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string readText(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

class TestDetectionData : public QObject {
  Q_OBJECT
  QTemporaryDir m_tmp;
  std::string m_data;  // a small fashion-det set shared by the tests

 private Q_SLOTS:
  void initTestCase() {
    FashionDetOptions o;
    o.outDir = (fs::path(m_tmp.path().toStdString()) / "fd").string();
    o.trainImages = 24;
    o.valImages = 8;
    o.size = 96;
    const FashionDetSummary s = makeFashionDet(o);
    m_data = s.dataYaml;
    QCOMPARE(s.trainImages, 24);
    QVERIFY(s.trainObjects >= 24 && s.trainObjects <= 24 * 8);
  }

  void labelFileErrorsNameFileAndLine() {
    const fs::path dir = fs::path(m_tmp.path().toStdString()) / "labels";
    const auto check = [&](const std::string& name, const std::string& text, const std::string& expect) {
      const fs::path f = dir / name;
      writeText(f, text);
      const std::string e = test::errorOf([&] { readYoloLabels(f.string(), 3); });
      QVERIFY2(e.find(f.string()) != std::string::npos && e.find(expect) != std::string::npos, e.c_str());
    };
    check("range.txt", "0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n", "line 2: class 3");
    check("fields.txt", "1 0.5 0.5 0.1\n", "5 fields");
    check("number.txt", "1 0.5 x 0.1 0.1\n", "'x' is not a number");
    check("pixels.txt", "1 80 60 20 20\n", "outside [0, 1]");
    check("negative.txt", "-1 0.5 0.5 0.1 0.1\n", "out of range");
    // Blank lines are fine; a box slightly past the border is clipped, not rejected.
    writeText(dir / "ok.txt", "\n2 0.95 0.5 0.1 0.2\n");
    const auto boxes = readYoloLabels((dir / "ok.txt").string(), 3);
    QCOMPARE(boxes.size(), size_t(1));
    QCOMPARE(boxes[0].cls, 2);
    QVERIFY(std::abs(boxes[0].cx + boxes[0].w / 2 - 1.0f) < 1e-6f);  // clipped at the right edge
  }

  void dataYamlErrors() {
    const fs::path dir = fs::path(m_tmp.path().toStdString()) / "yaml";
    writeText(dir / "nonames.yaml", "train: images/train\nval: images/val\n");
    QVERIFY(test::errorOf([&] { openYoloData((dir / "nonames.yaml").string()); }).find("names") != std::string::npos);
    writeText(dir / "nosplit.yaml", "path: .\ntrain: nowhere\nval: nowhere\nnames: [a]\n");
    const std::string e = test::errorOf([&] { openYoloData((dir / "nosplit.yaml").string()); });
    QVERIFY2(e.find("nosplit.yaml") != std::string::npos && e.find("nowhere") != std::string::npos, e.c_str());
    writeText(dir / "bad.yaml", "names: [a, b\n");
    QVERIFY(test::errorOf([&] { openYoloData((dir / "bad.yaml").string()); }).find("not valid YAML") != std::string::npos);
    QVERIFY(test::errorOf([&] { openYoloData((dir / "missing.yaml").string()); }).find("does not exist") !=
            std::string::npos);
  }

  void fashionDetIsAValidDeterministicDetectionSet() {
    const DetectionSplits s = openYoloData(m_data);
    QCOMPARE(s.train->size(), size_t(24));
    QCOMPARE(s.val->size(), size_t(8));
    QCOMPARE(s.train->numClasses(), 10);
    QCOMPARE(s.train->classNames()[9], std::string("Ankle boot"));
    for (size_t i = 0; i < s.train->size(); ++i) {
      const auto& l = s.train->labels(i);
      QVERIFY(!l.empty() && l.size() <= 8);
      for (const BoxLabel& b : l) {
        // 24-96 px at 160 scales to 14.4-57.6 px at 96 (long side)
        const float longSide = std::max(b.w, b.h) * 96;
        QVERIFY2(longSide >= 13 && longSide <= 59, qPrintable(QString::number(longSide)));
      }
      const ImageU8 img = s.train->image(i);
      QCOMPARE(img.width, 96);
      QCOMPARE(img.channels, 3);
    }
    // Same seed, same data; another seed, other data.
    FashionDetOptions o;
    o.outDir = (fs::path(m_tmp.path().toStdString()) / "fd2").string();
    o.trainImages = 24;
    o.valImages = 8;
    o.size = 96;
    makeFashionDet(o);
    const fs::path a = fs::path(m_data).parent_path(), b = o.outDir;
    QCOMPARE(readText(a / "labels/train/000005.txt"), readText(b / "labels/train/000005.txt"));
    o.outDir = (fs::path(m_tmp.path().toStdString()) / "fd3").string();
    o.seed = 7;
    makeFashionDet(o);
    QVERIFY(readText(a / "labels/train/000005.txt") != readText(fs::path(o.outDir) / "labels/train/000005.txt"));
  }

  void evalBatchesLetterboxTheLabels() {
    const DetectionSplits s = openYoloData(m_data);
    DetectAugmentOptions a;
    a.imgsz = 64;  // 96 -> 64: scale 2/3, no padding (square)
    DetectionBatches src(s.val, a, 0);
    const Batch b = src.assemble({0, 1, 2}, 0, false);
    QCOMPARE(b.images.sizes().vec(), (std::vector<int64_t>{3, 3, 64, 64}));
    QVERIFY(b.images.min().item<float>() >= 0 && b.images.max().item<float>() <= 1);
    size_t expected = 0;
    for (size_t i = 0; i < 3; ++i) expected += s.val->labels(i).size();
    QCOMPARE(size_t(b.targets.size(0)), expected);
    const BoxLabel& l = s.val->labels(0)[0];
    const at::Tensor t0 = b.targets[0];
    QCOMPARE(t0[0].item<float>(), 0.0f);
    QCOMPARE(int(t0[1].item<float>()), l.cls);
    QVERIFY(std::abs(t0[2].item<float>() - l.cx * 64) < 1e-3f);
    QVERIFY(std::abs(t0[5].item<float>() - l.h * 64) < 1e-3f);
  }

  void trainBatchesAreAugmentedDeterministically() {
    const DetectionSplits s = openYoloData(m_data);
    DetectAugmentOptions a;
    a.imgsz = 96;
    DetectionBatches src(s.train, a, 3);
    const Batch b1 = src.assemble({0, 1, 2, 3}, 0, true), b2 = src.assemble({0, 1, 2, 3}, 0, true);
    const Batch b3 = src.assemble({0, 1, 2, 3}, 1, true);
    QVERIFY(b1.images.equal(b2.images) && b1.targets.equal(b2.targets));
    QVERIFY(!b1.images.equal(b3.images));
    QVERIFY(b1.targets.size(0) > 0);
    const at::Tensor t = b1.targets;
    const at::Tensor x1 = t.select(1, 2) - t.select(1, 4) / 2, x2 = t.select(1, 2) + t.select(1, 4) / 2;
    QVERIFY(x1.min().item<float>() >= -1e-3f && x2.max().item<float>() <= 96 + 1e-3f);
    QVERIFY(t.select(1, 4).min().item<float>() > 2 && t.select(1, 5).min().item<float>() > 2);
    QVERIFY(t.select(1, 0).max().item<float>() <= 3);
  }
};

QTEST_GUILESS_MAIN(TestDetectionData)
#include "test_detection_data.moc"
