// Datasets as ultralytics reads them: data.yaml resolution (relative path, ./datasets/,
// split lists, .txt lists, names as a map), label checks that skip an image with a
// warning instead of aborting (bad line, out-of-range class), polygons as boxes,
// duplicates dropped, empty label files as backgrounds; image folders resized to --imgsz
// and normalised (ImageNet by default), checked against hand-computed pixels.
// Every dataset here is written by the test into a temporary directory.

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/data_loader.h"
#include "data/detection/detection_dataset.h"
#include "session/dataset_spec.h"
#include "test_helpers.h"

using namespace prunelab;
namespace fs = std::filesystem;

namespace {

void writeText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A 16 x 16 grey PNG (the detection tests never decode pixels they check).
void writeImage(const fs::path& p) {
  fs::create_directories(p.parent_path());
  QVERIFY(cv::imwrite(p.string(), cv::Mat(16, 16, CV_8UC3, cv::Scalar(90, 90, 90))));
}

// The index of `file` (by file name) in a split, or -1.
int indexOf(const DetectionDataset& d, const std::string& file) {
  for (size_t i = 0; i < d.size(); ++i)
    if (fs::path(d.imagePath(i)).filename() == file) return static_cast<int>(i);
  return -1;
}

bool hasWarning(const LabelCheck& c, const std::string& a, const std::string& b) {
  for (const auto& w : c.warnings)
    if (w.find(a) != std::string::npos && w.find(b) != std::string::npos) return true;
  return false;
}

std::string allWarnings(const LabelCheck& c) {
  std::string s;
  for (const auto& w : c.warnings) s += w + "\n";
  return s;
}

// Restores the current directory when the test leaves it.
struct CurrentDir {
  fs::path saved = fs::current_path();
  explicit CurrentDir(const fs::path& p) { fs::current_path(p); }
  ~CurrentDir() { fs::current_path(saved); }
};

}  // namespace

class TestUltralyticsData : public QObject {
  Q_OBJECT
  QTemporaryDir m_tmp;
  fs::path root() const { return fs::path(m_tmp.path().toStdString()); }

 private Q_SLOTS:
  // One split with every kind of label file; the val split is a plain folder.
  void labelsAreCheckedImageByImage() {
    const fs::path d = root() / "labels_case";
    const std::vector<std::pair<std::string, std::string>> files = {
        {"good", "0 0.5 0.5 0.2 0.4\n1 0.25 0.25 0.1 0.1\n"},
        {"fields", "0 0.5 0.5 0.2 0.4\n1 0.5 0.5 0.1\n"},              // line 2: 4 fields
        {"number", "\n\n2 0.5 abc 0.1 0.1\n"},                         // line 3: not a number
        {"range", "0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.1 0.1\n"},           // line 2: class 3 of nc 3
        {"outside", "1 1.5 0.5 0.1 0.1\n"},                            // line 1: not normalised
        {"negative", "1 0.5 0.5 -0.1 0.1\n"},                          // line 1: negative width
        {"polygon", "2 0.1 0.2 0.5 0.1 0.4 0.7 0.2 0.6\n"},            // 4 points
        {"dupes", "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n"},
        {"empty", ""},
    };
    for (const auto& [stem, text] : files) {
      writeImage(d / "images/train" / (stem + ".png"));
      writeText(d / "labels/train" / (stem + ".txt"), text);
    }
    writeImage(d / "images/train/nolabel.png");  // no label file: a background
    writeImage(d / "images/val/v.png");
    writeText(d / "data.yaml", "path: .\ntrain: images/train\nval: images/val\nnames: [a, b, c]\n");

    const DetectionSplits s = openYoloData((d / "data.yaml").string());  // must not throw
    const DetectionDataset& t = *s.train;
    const LabelCheck& c = t.labelCheck();
    const std::string w = allWarnings(c);
    // Five bad files: each image left out, each warning naming file:line and the problem.
    QCOMPARE(c.skipped, size_t(5));
    QCOMPARE(c.warnings.size(), size_t(5));
    const std::string lab = (d / "labels/train").string() + "/";
    QVERIFY2(hasWarning(c, lab + "fields.txt:2:", "found 4 fields"), w.c_str());
    QVERIFY2(hasWarning(c, lab + "number.txt:3:", "'abc' is not a number"), w.c_str());
    QVERIFY2(hasWarning(c, lab + "range.txt:2:", "class 3 is out of range [0, 3)"), w.c_str());
    QVERIFY2(hasWarning(c, lab + "outside.txt:1:", "outside [0, 1]"), w.c_str());
    QVERIFY2(hasWarning(c, lab + "negative.txt:1:", "negative box size"), w.c_str());
    for (const char* bad : {"fields.png", "number.png", "range.png", "outside.png", "negative.png"})
      QVERIFY2(indexOf(t, bad) < 0, bad);
    // good, polygon, dupes, empty, nolabel remain.
    QCOMPARE(t.size(), size_t(5));
    QCOMPARE(c.images, size_t(5));
    QCOMPARE(c.found, size_t(4));
    QCOMPARE(c.missing, size_t(1));
    QCOMPARE(c.empty, size_t(1));
    QCOMPARE(c.polygons, size_t(1));
    QCOMPARE(c.duplicates, size_t(2));
    const std::string summary = c.summary("train");
    QVERIFY2(summary.find("5 skipped") != std::string::npos && summary.find("2 duplicate boxes dropped") != std::string::npos,
             summary.c_str());

    const int good = indexOf(t, "good.png");
    QVERIFY(good >= 0);
    QCOMPARE(t.labels(size_t(good)).size(), size_t(2));
    QCOMPARE(t.labels(size_t(good))[1].cls, 1);
    // Polygon (0.1,0.2) (0.5,0.1) (0.4,0.7) (0.2,0.6): x 0.1..0.5, y 0.1..0.7.
    const auto& poly = t.labels(size_t(indexOf(t, "polygon.png")));
    QCOMPARE(poly.size(), size_t(1));
    QCOMPARE(poly[0].cls, 2);
    QVERIFY(std::abs(poly[0].cx - 0.3f) < 1e-6f && std::abs(poly[0].cy - 0.4f) < 1e-6f);
    QVERIFY(std::abs(poly[0].w - 0.4f) < 1e-6f && std::abs(poly[0].h - 0.6f) < 1e-6f);
    // Three copies of one class-0 box keep one; the class-1 box at the same place stays.
    const auto& dupes = t.labels(size_t(indexOf(t, "dupes.png")));
    QCOMPARE(dupes.size(), size_t(2));
    QVERIFY(dupes[0].cls != dupes[1].cls);
    QVERIFY(t.labels(size_t(indexOf(t, "empty.png"))).empty());
    QVERIFY(t.labels(size_t(indexOf(t, "nolabel.png"))).empty());

    // The session's report carries the warnings and the summary to the CLI and the GUI.
    DataSpec spec;
    spec.spec = (d / "data.yaml").string();
    const auto lines = dataReport(openData(spec));
    QCOMPARE(lines.size(), size_t(5 + 1 + 1));  // 5 warnings + train summary + val summary
    QVERIFY(lines[0].rfind("warning: ", 0) == 0);
  }

  // train as a YAML list of two folders; val as a .txt list; names as a map.
  void splitListsAndNameMaps() {
    const fs::path d = root() / "lists_case";
    for (const char* f : {"images/part1/a.png", "images/part1/b.png", "images/part2/c.png", "images/val/x.png",
                          "images/val/y.png", "images/val/z.png"})
      writeImage(d / f);
    writeText(d / "labels/part1/a.txt", "1 0.5 0.5 0.5 0.5\n");
    writeText(d / "labels/part2/c.txt", "0 0.5 0.5 0.5 0.5\n");
    writeText(d / "labels/val/x.txt", "1 0.5 0.5 0.5 0.5\n");
    // "./" is relative to the list's folder (ultralytics); "images/..." is tried there too.
    writeText(d / "val.txt", "./images/val/x.png\nimages/val/y.png\n\n" + (d / "images/val/z.png").string() + "\n");
    writeText(d / "data.yaml",
              "path: " + d.string() +
                  "\ntrain: [images/part1, images/part2]\nval: val.txt\nnames:\n  0: person\n  1: car\n");
    const DetectionSplits s = openYoloData((d / "data.yaml").string());
    QCOMPARE(s.train->size(), size_t(3));
    QCOMPARE(s.train->classNames(), (std::vector<std::string>{"person", "car"}));
    QCOMPARE(s.train->labels(size_t(indexOf(*s.train, "c.png")))[0].cls, 0);
    QCOMPARE(s.train->labels(size_t(indexOf(*s.train, "a.png")))[0].cls, 1);
    QVERIFY(s.train->labels(size_t(indexOf(*s.train, "b.png"))).empty());
    QCOMPARE(s.val->size(), size_t(3));
    QCOMPARE(s.val->labels(size_t(indexOf(*s.val, "x.png")))[0].cls, 1);
    QVERIFY(!s.test);

    // A listed image that does not exist is skipped with a warning naming the list's line.
    writeText(d / "val2.txt", "./images/val/x.png\n./images/val/gone.png\n");
    writeText(d / "data2.yaml", "train: images/part1\nval: val2.txt\nnames: {0: person, 1: car}\n");
    const DetectionSplits s2 = openYoloData((d / "data2.yaml").string());
    QCOMPARE(s2.val->size(), size_t(1));
    QVERIFY2(hasWarning(s2.val->labelCheck(), (d / "val2.txt").string() + ":2:", "does not exist"),
             allWarnings(s2.val->labelCheck()).c_str());
    // A map with a gap is an error naming the YAML.
    writeText(d / "gap.yaml", "train: images/part1\nval: images/val\nnames: {0: a, 2: c}\n");
    const std::string e = test::errorOf([&] { openYoloData((d / "gap.yaml").string()); });
    QVERIFY2(e.find("gap.yaml") != std::string::npos && e.find("without gaps") != std::string::npos, e.c_str());
  }

  // path: mydata, not next to the YAML: found under ./datasets/ as ultralytics finds it.
  void relativePathFallsBackToDatasetsDir() {
    const fs::path work = root() / "cwd_case";
    const fs::path data = work / "datasets/mydata";
    writeImage(data / "images/train/t.png");
    writeImage(data / "images/val/v.png");
    writeText(data / "labels/train/t.txt", "0 0.5 0.5 0.1 0.1\n");
    const fs::path yaml = work / "configs/my.yaml";
    writeText(yaml, "path: mydata\ntrain: images/train\nval: images/val\nnames: [thing]\n");
    {
      const CurrentDir cd(work);
      const DetectionSplits s = openYoloData(yaml.string());
      QCOMPARE(s.train->size(), size_t(1));
      QVERIFY2(s.train->imagePath(0).find("datasets/mydata/images/train/t.png") != std::string::npos,
               s.train->imagePath(0).c_str());
      QCOMPARE(s.train->labels(0).size(), size_t(1));
    }
    // Next to the YAML wins over ./datasets/.
    writeImage(work / "configs/mydata/images/train/near.png");
    writeImage(work / "configs/mydata/images/val/near.png");
    {
      const CurrentDir cd(work);
      const DetectionSplits s = openYoloData(yaml.string());
      QVERIFY2(s.train->imagePath(0).find("configs/mydata/images/train/near.png") != std::string::npos,
               s.train->imagePath(0).c_str());
    }
    // Neither: the error names both places tried.
    writeText(work / "configs/lost.yaml", "path: nowhere\ntrain: images/train\nval: images/val\nnames: [thing]\n");
    const CurrentDir cd(work);
    const std::string e = test::errorOf([&] { openYoloData((work / "configs/lost.yaml").string()); });
    QVERIFY2(e.find("lost.yaml") != std::string::npos && e.find("datasets/nowhere") != std::string::npos &&
                 e.find("configs/nowhere") != std::string::npos,
             e.c_str());
  }

  // Image folders: --imgsz resizes, ImageNet mean/std by default for RGB, or as asked.
  void imageFolderResizeAndNormalisation() {
    const fs::path d = root() / "folders";
    // val/a/img.png: 4 x 4 RGB with value 40c + 10 * block + 4 * (position in its 2 x 2
    // block); a 2x down-scale averages each block: 40c + 10 * block + 6.
    cv::Mat rgb(4, 4, CV_8UC3);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x)
        for (int c = 0; c < 3; ++c)
          rgb.at<cv::Vec3b>(y, x)[c] = uchar(40 * c + 10 * (2 * (y / 2) + x / 2) + 4 * (2 * (y % 2) + x % 2));
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    for (const char* f : {"train/a/img.png", "train/b/img.png", "val/a/img.png", "val/b/img.png"}) {
      fs::create_directories((d / f).parent_path());
      QVERIFY(cv::imwrite((d / f).string(), bgr));
    }
    const auto firstVal = [&](const ClassifyInputOptions& input) {
      DataSpec spec;
      spec.spec = d.string();
      spec.input = input;
      const OpenedData data = openData(spec);
      TransformOptions trainT, evalT;
      classifyTransforms(data, 3, trainT, evalT);
      LoaderOptions lo;
      lo.batchSize = 2;
      lo.shuffle = false;
      lo.augment = false;
      lo.workers = 1;
      lo.transform = evalT;
      DataLoader loader(data.cls.val, lo);
      loader.startEpoch(0);
      Batch b;
      if (!loader.next(b)) return at::Tensor();
      return b.images[0].clone();
    };
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
    ClassifyInputOptions sized;
    sized.imgsz = 2;
    const at::Tensor x = firstVal(sized);  // normalize auto: ImageNet (RGB image folder)
    QCOMPARE(x.sizes().vec(), (std::vector<int64_t>{3, 2, 2}));
    for (int c = 0; c < 3; ++c)
      for (int by = 0; by < 2; ++by)
        for (int bx = 0; bx < 2; ++bx) {
          const float pixel = float(40 * c + 10 * (2 * by + bx) + 6);
          const float expect = (pixel / 255.f - mean[c]) / stdev[c];
          const float got = x[c][by][bx].item<float>();
          QVERIFY2(std::abs(got - expect) < 1e-5f, qPrintable(QString("c%1 (%2,%3): %4 vs %5").arg(c).arg(by).arg(bx).arg(got).arg(expect)));
        }
    // Without --imgsz the stored size; "none" is plain [0, 1] scaling.
    ClassifyInputOptions none;
    none.normalize = "none";
    const at::Tensor y = firstVal(none);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{3, 4, 4}));
    QVERIFY(std::abs(y[2][3][1].item<float>() - float(40 * 2 + 10 * 2 + 4 * 3) / 255.f) < 1e-6f);
    // Given mean/std override the mode (one value for every channel).
    ClassifyInputOptions custom = sized;
    custom.mean = {0.5f};
    custom.std = {0.25f};
    const at::Tensor z = firstVal(custom);
    QVERIFY(std::abs(z[1][1][0].item<float>() - (float(40 + 10 * 2 + 6) / 255.f - 0.5f) / 0.25f) < 1e-5f);
    // Bad values are errors naming the option.
    ClassifyInputOptions wrong;
    wrong.mean = {0.1f, 0.2f};
    QVERIFY(test::errorOf([&] { firstVal(wrong); }).find("--mean") != std::string::npos);
    wrong = {};
    wrong.normalize = "zscore";
    QVERIFY(test::errorOf([&] { firstVal(wrong); }).find("--normalize") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestUltralyticsData)
#include "test_ultralytics_data.moc"
