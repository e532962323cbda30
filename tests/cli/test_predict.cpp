// prunelab-cli predict (issue 14 item 5): annotated images and YOLO-format labels, the
// same detections eval finds, boxes mapped back to the image's own pixels.
//
// References: eval --save-txt (the evaluator's detections, written through its own
// loader and batches), the ground-truth label files of fashion-det (independent of both:
// a wrong mapping back from the letterbox misses them), and hand-computed letterbox
// arithmetic for a non-square image.

#include <QDir>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "data/detection/detection_augment.h"
#include "eval/detection_files.h"
#include "eval/detection_predictor.h"
#include "test_helpers.h"

namespace fs = std::filesystem;

namespace {

using Run = prunelab::test::CliRun;
Run cli(const QStringList& args) { return prunelab::test::runCli(args); }

struct Line {
  int cls;
  double cx, cy, w, h;
  double conf = -1;  // the sixth field, when written (--save-conf)
};

// The fields of each line: five, and the score when there is one.
std::vector<Line> readLabels(const fs::path& file) {
  std::ifstream in(file);
  std::vector<Line> lines;
  for (std::string text; std::getline(in, text);) {
    std::istringstream fields(text);
    Line l{};
    if (!(fields >> l.cls >> l.cx >> l.cy >> l.w >> l.h)) continue;
    if (!(fields >> l.conf)) l.conf = -1;
    lines.push_back(l);
  }
  return lines;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double iou(const Line& a, const Line& b) {
  const double ix = std::max(0.0, std::min(a.cx + a.w / 2, b.cx + b.w / 2) - std::max(a.cx - a.w / 2, b.cx - b.w / 2));
  const double iy = std::max(0.0, std::min(a.cy + a.h / 2, b.cy + b.h / 2) - std::max(a.cy - a.h / 2, b.cy - b.h / 2));
  const double inter = ix * iy;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

const QString kDetector = QStringLiteral(PRUNELAB_SOURCE_DIR "/resources/demo/detector.plm");

}  // namespace

class TestPredict : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  QString m_data, m_val;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFileInfo::exists(kDetector), "resources/demo/detector.plm is missing");
    const QString out = m_dir.path() + "/fd";
    // A seed other than the demo's training data's, so these are images the detector never saw.
    const Run r = cli({"make-dataset", "fashion-det", "--out", out, "--train", "4", "--val", "24", "--seed", "7"});
    QVERIFY2(r.code == 0, r.err.c_str());
    m_data = out + "/data.yaml";
    m_val = out + "/images/val";
    QVERIFY(QDir(m_val).entryList(QDir::Files).size() == 24);
  }

  // The letterbox arithmetic by hand: 300x200 at 160 -> scale 160/300, 160x107, 26 px
  // of grey above (floor((160-107)/2)), and the image rows start exactly there.
  void geometryByHand() {
    const prunelab::LetterboxGeometry g = prunelab::letterboxGeometry(300, 200, 160);
    QCOMPARE(g.scale, 160.0 / 300.0);
    QCOMPARE(g.padX, 0.0);
    QCOMPARE(g.padY, 26.0);
    cv::Mat image(200, 300, CV_8UC3, cv::Scalar(0, 0, 0));
    const prunelab::AugmentedImage a = prunelab::evalLetterbox(image, {}, 160);
    QCOMPARE(a.image.rows, 160);
    QCOMPARE(int(a.image.at<cv::Vec3b>(25, 80)[0]), 114);  // padding
    QCOMPARE(int(a.image.at<cv::Vec3b>(26, 80)[0]), 0);    // first image row
    QCOMPARE(int(a.image.at<cv::Vec3b>(132, 80)[0]), 0);   // last image row (26 + 107 - 1)
    QCOMPARE(int(a.image.at<cv::Vec3b>(133, 80)[0]), 114);
    // A box in network pixels back in the image: x / scale, (y - 26) / scale, clipped.
    std::vector<prunelab::Detection> d{{{16.f, 36.f, 48.f, 140.f}, 0.9f, 3}};
    d = prunelab::toImagePixels(d, g);
    QCOMPARE(d[0].box.x1, 30.f);
    QCOMPARE(d[0].box.y1, float((36.0 - 26.0) * 300.0 / 160.0));
    QCOMPARE(d[0].box.x2, 90.f);
    QCOMPARE(d[0].box.y2, 200.f);  // (140 - 26) * 1.875 = 213.75, clipped to the height
    // The label line: centre and size over the image's width and height.
    QCOMPARE(prunelab::yoloLabelText(d, 300, 200, false),
             std::string("3 0.200000 ") + [&] {
               char b[64];
               std::snprintf(b, sizeof b, "%.6f 0.200000 %.6f", (18.75 + 200.0) / 2 / 200, (200.0 - 18.75) / 200);
               return std::string(b);
             }() + "\n");
  }

  // One annotated image and one label file per input; the labels equal what eval found
  // on the same images (eval --batch 1: the same single-image forward), and they find the
  // ground truth (a wrong mapping from the letterbox would not).
  void predictEqualsEvalAndFindsObjects() {
    const QString out = m_dir.path() + "/pred", evalTxt = m_dir.path() + "/evaltxt";
    Run r = cli({"predict", "--model", kDetector, "--source", m_val, "--conf", "0.25", "--iou", "0.7", "--save-txt",
                 "--save-conf", "--out", out});
    QVERIFY2(r.code == 0, (r.out + r.err).c_str());
    r = cli({"eval", "--model", kDetector, "--data", m_data, "--conf", "0.25", "--iou", "0.7", "--batch", "1",
             "--save-txt", evalTxt, "--save-conf"});
    QVERIFY2(r.code == 0, (r.out + r.err).c_str());

    int images = 0, detections = 0, matched = 0, truths = 0;
    for (const QString& name : QDir(m_val).entryList(QDir::Files, QDir::Name)) {
      ++images;
      const QFileInfo fi(name);
      const fs::path annotated = fs::path(out.toStdString()) / name.toStdString();
      QVERIFY2(fs::exists(annotated), annotated.c_str());
      const cv::Mat drawn = cv::imread(annotated.string()), original = cv::imread((m_val + "/" + name).toStdString());
      QCOMPARE(drawn.size(), original.size());
      const fs::path txt = fs::path(out.toStdString()) / "labels" / (fi.completeBaseName().toStdString() + ".txt");
      const fs::path ref = fs::path(evalTxt.toStdString()) / (fi.completeBaseName().toStdString() + ".txt");
      QVERIFY2(fs::exists(txt), txt.c_str());
      QVERIFY2(fs::exists(ref), ref.c_str());
      QCOMPARE(slurp(txt), slurp(ref));
      const std::vector<Line> found = readLabels(txt);
      detections += int(found.size());
      if (!found.empty()) QVERIFY2(cv::norm(drawn, original, cv::NORM_L1) > 0, "boxes were not drawn");
      const fs::path gtFile = fs::path((m_val + "/../../labels/val/").toStdString()) / txt.filename();
      for (const Line& gt : readLabels(gtFile)) {
        ++truths;
        for (const Line& f : found)
          if (f.cls == gt.cls && iou(f, gt) > 0.5) {
            ++matched;
            break;
          }
      }
    }
    QCOMPARE(images, 24);
    QVERIFY2(truths >= 24, qPrintable(QString::number(truths)));
    // The demo detector (mAP50 0.41 on fashion-det) finds a good share of the objects at
    // their place: the comparison above is between non-empty files, and a box mapped back
    // to the wrong place or scale would match no ground truth.
    // Measured: 40 of 87 objects found with their class at IoU > 0.5 (48 ignoring the class).
    QVERIFY2(detections >= truths / 2, qPrintable(QString("%1 detections, %2 objects").arg(detections).arg(truths)));
    QVERIFY2(matched >= truths / 3, qPrintable(QString("%1 of %2 objects found").arg(matched).arg(truths)));
  }

  // README (Predict): the defaults are --conf 0.25 --iou 0.7 --max-det 300 (the run above
  // gave them explicitly; without them the label files are the same, byte for byte), and an
  // image without detections gets an empty label file.
  void defaultsAndEmptyLabelFiles() {
    const QString explicitOut = m_dir.path() + "/pred", out = m_dir.path() + "/pred-defaults";
    QVERIFY2(QDir(explicitOut + "/labels").exists(), "predictEqualsEvalAndFindsObjects runs first");
    Run r = cli({"predict", "--model", kDetector, "--source", m_val, "--save-txt", "--save-conf", "--out", out});
    QVERIFY2(r.code == 0, (r.out + r.err).c_str());
    int files = 0, lines = 0, below = 0;
    for (const QString& name : QDir(explicitOut + "/labels").entryList(QDir::Files, QDir::Name)) {
      const fs::path a = fs::path(explicitOut.toStdString()) / "labels" / name.toStdString();
      const fs::path b = fs::path(out.toStdString()) / "labels" / name.toStdString();
      QVERIFY2(fs::exists(b), b.c_str());
      QCOMPARE(slurp(b), slurp(a));
      ++files;
      for (const Line& l : readLabels(b)) {
        ++lines;
        QVERIFY(l.conf >= 0.25);
        below += l.conf < 0.5;
      }
    }
    QCOMPARE(files, 24);
    // The comparison can fail: another threshold gives other files. Measured: 87 detections,
    // 30 of them below 0.5.
    qInfo("%d detections at the default confidence, %d of them below 0.5", lines, below);
    QVERIFY(below > 0);
    r = cli({"predict", "--model", kDetector, "--source", m_val, "--save-txt", "--conf", "0.5", "--out",
             m_dir.path() + "/pred-05"});
    QVERIFY2(r.code == 0, (r.out + r.err).c_str());
    int fewer = 0;
    for (const QString& name : QDir(m_dir.path() + "/pred-05/labels").entryList(QDir::Files))
      fewer += int(readLabels(fs::path((m_dir.path() + "/pred-05/labels/" + name).toStdString())).size());
    // (within one: a score printed as 0.5 may have been just below it)
    QVERIFY2(fewer < lines && std::abs(fewer - (lines - below)) <= 1, qPrintable(QString::number(fewer)));

    // A plain grey image (the letterbox colour): nothing to find, an empty label file.
    const QString blankDir = m_dir.path() + "/blank";
    QDir().mkpath(blankDir);
    QVERIFY(cv::imwrite((blankDir + "/grey.png").toStdString(), cv::Mat(160, 160, CV_8UC3, cv::Scalar(114, 114, 114))));
    r = cli({"predict", "--model", kDetector, "--source", blankDir, "--save-txt", "--out", m_dir.path() + "/blank-out"});
    QVERIFY2(r.code == 0, (r.out + r.err).c_str());
    const fs::path empty = fs::path((m_dir.path() + "/blank-out/labels/grey.txt").toStdString());
    QVERIFY2(fs::exists(empty), empty.c_str());
    QCOMPARE(fs::file_size(empty), uintmax_t(0));
  }

  // Text and JSON output agree with the label files; a single image works; bad input is named.
  void singleImageJsonAndErrors() {
    const QString image = m_val + "/" + QDir(m_val).entryList(QDir::Files, QDir::Name).first();
    const QString out = m_dir.path() + "/one";
    Run r = cli({"predict", "--model", kDetector, "--source", image, "--out", out, "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    QCOMPARE(j.at("images").size(), size_t(1));
    QVERIFY(j.at("images")[0].at("detections").size() >= 1);
    // The demo detector carries fashion-det's class names; each detection is named by them.
    const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    for (const auto& d : j.at("images")[0].at("detections"))
      QCOMPARE(d.at("name").get<std::string>(), names.at(d.at("cls").get<size_t>()));
    QCOMPARE(j.at("imgsz").get<int>(), 160);
    QVERIFY(fs::exists(fs::path(out.toStdString()) / QFileInfo(image).fileName().toStdString()));

    r = cli({"predict", "--model", kDetector, "--source", m_val, "--out", m_val});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("source folder") != std::string::npos, r.err.c_str());
    r = cli({"predict", "--model", "resnet20", "--source", image, "--out", out});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("not a YOLO detector") != std::string::npos, r.err.c_str());
    const QString bad = m_dir.path() + "/bad";
    QDir().mkpath(bad);
    QFile::copy(image, bad + "/good.png");
    QFile f(bad + "/broken.png");
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a png");
    f.close();
    r = cli({"predict", "--model", kDetector, "--source", bad, "--out", m_dir.path() + "/badout"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("broken.png") != std::string::npos && r.err.find("1 of 2 images") != std::string::npos,
             r.err.c_str());
    QVERIFY(fs::exists((m_dir.path() + "/badout/good.png").toStdString()));
  }
};

QTEST_GUILESS_MAIN(TestPredict)
#include "test_predict.moc"
