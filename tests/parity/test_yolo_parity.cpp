// YOLOv5 acceptance: a state_dict saved from the ultralytics/yolov5 (v6+) model layout,
// loaded into PruneLab's YAML-built model, gives PyTorch's head outputs via `prunelab-cli
// infer`. The reference is tests/python/yolov5_reference.py, an independent plain-PyTorch
// re-implementation whose state_dict keys are those of real yolov5 checkpoints
// (model.0.conv.weight, ..., model.24.m.0.bias, model.24.anchors); it is generated per run
// into a temporary directory.
//
// Graph outputs of a v5 model, in order (--output-dir writes output0.npy, ...):
//   0..2  raw level outputs [bs, na, ny, nx, nc + 5] for strides 8, 16, 32
//   3     decoded predictions [bs, sum(na*ny*nx), nc + 5] (yolov5's inference `z`)

#include <ATen/ATen.h>

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "test_helpers.h"

namespace {

const char* const kReference = PRUNELAB_SOURCE_DIR "/tests/python/yolov5_reference.py";
constexpr double kTolerance = 1e-4;

struct Run {
  int code;
  std::string out, err;
};

Run run(const QString& program, const QStringList& args) {
  QProcess p;
  p.start(program, args);
  if (!p.waitForFinished(240000)) {
    p.kill();
    p.waitForFinished();
    return {-1, "", (program + " did not finish: " + p.errorString()).toStdString()};
  }
  if (p.exitStatus() != QProcess::NormalExit) return {-1, "", (program + " crashed").toStdString()};
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

at::Tensor npy(const QString& path) { return prunelab::readNpy(path.toStdString()); }

}  // namespace

class TestYoloParity : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  // Directory holding the reference for (model, nc, size), generated on first use.
  // Returns "" (and records a failure) when the reference script fails.
  QString reference(const QString& model, int nc, int size) {
    const QString dir = m_dir.path() + QString("/ref_%1_nc%2_%3").arg(model).arg(nc).arg(size);
    if (QFileInfo::exists(dir + "/" + model + "_decoded.npy")) return dir;
    const Run r = run(PRUNELAB_PYTHON, {kReference, "--out", dir, "--model", model, "--nc", QString::number(nc),
                                        "--size", QString::number(size)});
    if (r.code != 0) {
      qWarning("%s", ("reference script failed:\n" + r.out + r.err).c_str());
      return {};
    }
    return dir;
  }

 private Q_SLOTS:
  void initTestCase() { QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString())); }

  void inferMatchesPyTorch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("nc");
    QTest::addColumn<int>("size");
    QTest::newRow("yolov5n nc80 160") << "yolov5n" << 80 << 160;
    QTest::newRow("yolov5s nc3 128") << "yolov5s" << 3 << 128;  // the --nc path: Detect convs 24 wide
  }
  void inferMatchesPyTorch() {
    QFETCH(QString, model);
    QFETCH(int, nc);
    QFETCH(int, size);
    const QString ref = reference(model, nc, size);
    QVERIFY2(!ref.isEmpty(), "could not generate the PyTorch reference");
    const QString out = m_dir.path() + QString("/out_%1_nc%2_%3").arg(model).arg(nc).arg(size);
    const Run r = run(PRUNELAB_CLI, {"infer", "--model", model, "--nc", QString::number(nc), "--weights",
                                     ref + "/" + model + "_state_dict.pt", "--input", ref + "/" + model + "_input.npy",
                                     "--output-dir", out});
    QVERIFY2(r.code == 0, r.err.c_str());

    // Exactly the three raw levels and the decode.
    const QStringList files = QDir(out).entryList({"output*.npy"}, QDir::Files, QDir::Name);
    QCOMPARE(files, (QStringList{"output0.npy", "output1.npy", "output2.npy", "output3.npy"}));

    const int64_t no = nc + 5;
    int64_t rows = 0;
    const int strides[3] = {8, 16, 32};
    for (int i = 0; i < 3; ++i) {
      const int64_t cells = size / strides[i];
      const at::Tensor expected = npy(ref + QString("/%1_output%2.npy").arg(model).arg(i));
      const at::Tensor actual = npy(out + QString("/output%1.npy").arg(i));
      QCOMPARE(expected.sizes().vec(), (std::vector<int64_t>{1, 3, cells, cells, no}));
      // The reference is calibrated so that the outputs depend on the input: PyTorch's
      // output for an all-zero input differs by >= 100x the tolerance (an output with a
      // large spread that ignored its input would still pass a spread check).
      PRUNELAB_VERIFY_DEPENDS_ON_INPUT(
          prunelab::test::maxAbsDiff(expected, npy(ref + QString("/%1_zero_output%2.npy").arg(model).arg(i))), kTolerance);
      PRUNELAB_COMPARE_TENSORS(actual, expected, kTolerance);
      rows += 3 * cells * cells;
    }

    // The decode: xywh in pixels (up to ~4 x the largest anchor), so the tolerance is
    // relative there: the raw outputs' rounding differences scale with the anchor size.
    const at::Tensor expected = npy(ref + "/" + model + "_decoded.npy").to(at::kDouble);
    const at::Tensor actual = npy(out + "/output3.npy").to(at::kDouble);
    QCOMPARE(actual.sizes().vec(), (std::vector<int64_t>{1, rows, no}));
    QCOMPARE(expected.sizes().vec(), actual.sizes().vec());
    const at::Tensor zero = npy(ref + "/" + model + "_zero_decoded.npy").to(at::kDouble);
    PRUNELAB_VERIFY_DEPENDS_ON_INPUT(((expected - zero).abs() / zero.abs().clamp_min(1.0)).max().item<double>(), kTolerance);
    const double rel = ((actual - expected).abs() / expected.abs().clamp_min(1.0)).max().item<double>();
    QVERIFY2(rel <= kTolerance, qPrintable(QString("decoded: max relative diff %1 > %2").arg(rel).arg(kTolerance)));
  }

  // A checkpoint for 80 classes loaded as a 3-class model names the head tensors.
  void wrongNcIsClear() {
    const QString ref = reference("yolov5n", 80, 160);
    QVERIFY2(!ref.isEmpty(), "could not generate the PyTorch reference");
    const Run r = run(PRUNELAB_CLI, {"infer", "--model", "yolov5n", "--nc", "3", "--weights",
                                     ref + "/yolov5n_state_dict.pt", "--input", ref + "/yolov5n_input.npy",
                                     "--output-dir", m_dir.path() + "/out_wrong_nc"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("model.24.m.0.weight") != std::string::npos && r.err.find("255") != std::string::npos, r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestYoloParity)
#include "test_yolo_parity.moc"
