// Issue 18 item 3: ONNX Runtime as one more independent consumer of PruneLab's ONNX files.
// ORT is the CPU build from npm (onnxruntime-node, pinned in tests/ort/package-lock.json,
// installed by installer/deps.sh) driven by tests/ort/ort_run.js; it shares no code with
// PruneLab's executor (LibTorch) nor with the other consumers (onnx.checker, OpenCV DNN).
// A zoo classifier and a YOLO, unpruned and after a real cut, exported at opset 17 (BN kept)
// and at opset 13 (BN folded), run in ORT and in the executor on the same batch-2 input
// (the files have a dynamic batch, exported at batch 1); every output must agree.
// Tolerance: |a - b| <= tol * max(1, |b|) (decoded boxes are in pixels): tol = 1e-4 for the
// classifier, as for OpenCV DNN in test_interop; 1e-3 for the YOLO, because on it ORT does not
// agree with itself to 1e-4: on the unpruned yolov5n at 160 (BN calibrated, 57 layers
// of rounding amplified up to raw logits of ~26) ORT's outputs with all graph optimizations
// and with none differ by up to 3.6e-4, and the executor is as far from them (3.1e-4 from
// ORT's optimized run, 5.0e-4 from the unoptimized one; measured, issue 18); a wrong export
// is off by far more (BN epsilon x1000: 0.36 on ResNet-18, 388 on yolov5n). Each comparison
// first shows the outputs move by >= 100x tol when the input is zeroed, so a runtime that
// ignored its input could not pass.
// ORT missing is a failure, not a skip: the message says to run installer/deps.sh.

#include <ATen/ATen.h>

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>

#include "../support/bn_calibration.h"
#include "exec/inference.h"
#include "io/onnx_export.h"
#include "models/model_loader.h"
#include "pruning/pruner.h"
#include "test_helpers.h"

using namespace prunelab;

namespace {

const char* const kOrtDir = PRUNELAB_SOURCE_DIR "/tests/ort";
const char* const kOrtRun = PRUNELAB_SOURCE_DIR "/tests/ort/ort_run.js";

struct Proc {
  int code;
  std::string out, err;
};

// node ort_run.js ARGS (node: PRUNELAB_NODE, found by CMake; the PATH's node otherwise).
Proc ortRun(const QStringList& args) {
  QProcess p;
  p.start(PRUNELAB_NODE, QStringList{kOrtRun} + args);
  if (!p.waitForFinished(280000)) return {-1, "", "timeout"};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput().toStdString(),
          p.readAllStandardError().toStdString()};
}

// Largest |a - b| / max(1, |b|).
double relDiff(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  return ((x - y).abs() / y.abs().clamp_min(1.0)).max().item<double>();
}

// How far the outputs move, together, when the input is replaced by zeros (see
// test_interop: a random-init YOLO's decoded confidences saturate, its raw levels move).
double movedByInput(const std::vector<at::Tensor>& fx, const std::vector<at::Tensor>& f0) {
  double moved = 0;
  for (size_t i = 0; i < fx.size() && i < f0.size(); ++i) moved = std::max(moved, relDiff(fx[i], f0[i]));
  return moved;
}

std::vector<at::Tensor> execute(const Graph& graph, const at::Tensor& x) {
  Graph g = graph.share();  // runInference may move tensors to the device
  return runInference(g, {x}, "cpu");
}

at::Tensor randomInput(const Shape& chw, int64_t batch, uint64_t seed) {
  at::manual_seed(seed);
  Shape s{batch};
  s.insert(s.end(), chw.begin(), chw.end());
  return at::randn(s);
}

}  // namespace

class TestOrtConsumer : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  QString path(const QString& name) const { return m_dir.path() + "/" + name; }

 private Q_SLOTS:
  // Fails (every test with it) when ORT is not installed: a consumer that silently
  // disappears would turn the comparisons below into nothing.
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    at::set_num_threads(2);
    const QString node = PRUNELAB_NODE;
    QVERIFY2(QFileInfo(node).isExecutable(),
             qPrintable("node not found (" + node + "): ONNX Runtime is a test dependency; run installer/deps.sh"));
    const QString package = QString(kOrtDir) + "/node_modules/onnxruntime-node/package.json";
    QVERIFY2(QFileInfo::exists(package),
             qPrintable("ONNX Runtime is not installed (" + package + " missing): run installer/deps.sh"));
  }

  void ortMatchesExecutor_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("size");
    QTest::addColumn<double>("percent");  // global L1 cut, 0 = unpruned
    QTest::addColumn<int>("opset");
    QTest::addColumn<bool>("foldBn");
    QTest::addColumn<double>("tol");  // see the top of the file
    QTest::newRow("resnet18 at 96, unpruned") << "resnet18" << 96 << 0.0 << 17 << false << 1e-4;
    QTest::newRow("resnet18 at 96, 50% pruned") << "resnet18" << 96 << 0.5 << 17 << false << 1e-4;
    QTest::newRow("resnet18 at 96, 50% pruned, opset 13, BN folded") << "resnet18" << 96 << 0.5 << 13 << true << 1e-4;
    QTest::newRow("yolov5n.yaml at 160, unpruned") << "yolov5n.yaml" << 160 << 0.0 << 17 << false << 1e-3;
    QTest::newRow("yolov5n.yaml at 160, 50% pruned") << "yolov5n.yaml" << 160 << 0.5 << 17 << false << 1e-3;
    QTest::newRow("yolov5n.yaml at 160, 50% pruned, opset 13, BN folded")
        << "yolov5n.yaml" << 160 << 0.5 << 13 << true << 1e-3;
  }
  void ortMatchesExecutor() {
    QFETCH(QString, model);
    QFETCH(int, size);
    QFETCH(double, percent);
    QFETCH(int, opset);
    QFETCH(bool, foldBn);
    QFETCH(double, tol);
    const Shape chw{3, size, size};
    ModelRequest mr;
    mr.model = model.startsWith("yolo") ? std::string(PRUNELAB_SOURCE_DIR "/resources/models/") + model.toStdString()
                                        : model.toStdString();
    Graph g = loadModel(mr);
    const int64_t fullParams = g.parameterCount();
    if (percent > 0) {
      PruneRequest r;
      r.mode = PruneRequest::Mode::GlobalPercent;
      r.amount = percent;
      r.importance.criterion = Criterion::L1;
      r.inputShape = chw;
      g = runPruning(g, r).graph;
      QVERIFY2(g.parameterCount() < fullParams * 0.8, "the cut removed too little to be a real prune");
    }
    test::calibrateBatchNorm(g, randomInput(chw, 4, 5));  // else the outputs barely depend on the input

    const QString tag = QString("%1_%2_%3_%4").arg(QFileInfo(model).baseName()).arg(percent).arg(opset).arg(foldBn);
    const std::string onnxPath = path(tag + ".onnx").toStdString();
    OnnxExportOptions o;
    o.opset = opset;
    o.foldBn = foldBn;
    exportOnnx(g, onnxPath, o, chw);

    const at::Tensor x = randomInput(chw, 2, 7);
    const QString inputPath = path(tag + "_input.npy");
    writeNpy(inputPath.toStdString(), x);
    const auto expected = execute(g, x);
    const double moved = movedByInput(expected, execute(g, at::zeros_like(x)));
    qInfo("%s: the outputs move by %g (relative) when the input is zeroed", qPrintable(tag), moved);
    PRUNELAB_VERIFY_DEPENDS_ON_INPUT(moved, tol);

    const QString outDir = path(tag + "_ort");
    const Proc r = ortRun({"run", QString::fromStdString(onnxPath), inputPath, outDir, "--threads", "2"});
    QVERIFY2(r.code == 0, r.err.c_str());
    double worst = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      const QString file = outDir + QString("/output%1.npy").arg(i);
      QVERIFY2(QFileInfo::exists(file), qPrintable("ORT wrote no " + file + " (it has fewer outputs)"));
      const at::Tensor got = readNpy(file.toStdString());
      QCOMPARE(got.sizes().vec(), expected[i].sizes().vec());
      const double d = relDiff(got, expected[i]);
      qInfo("output %zu %s: max relative diff %g (max |value| %g)", i, shapeToString(got.sizes().vec()).c_str(), d,
            expected[i].abs().max().item<double>());
      worst = std::max(worst, d);
    }
    QVERIFY2(!QFileInfo::exists(outDir + QString("/output%1.npy").arg(expected.size())), "ORT has more outputs");
    qInfo("%s: %zu outputs, ORT vs executor max relative diff %g", qPrintable(tag), expected.size(), worst);
    QVERIFY2(worst <= tol, qPrintable(QString("ONNX Runtime vs executor: max relative diff %1 > %2").arg(worst).arg(tol)));
  }

  // The runner's own errors name the file and exit 1: a broken export is reported, not
  // mistaken for a missing ORT or a crash.
  void badFilesNameTheFile() {
    const QString corrupt = path("corrupt.onnx");
    std::ofstream(corrupt.toStdString()) << "not protobuf \x01\x02";
    const QString input = path("bad_input.npy");
    writeNpy(input.toStdString(), at::zeros({1, 3, 8, 8}));
    Proc r = ortRun({"run", corrupt, input, path("out")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find(corrupt.toStdString()) != std::string::npos && r.err.find("not a model") != std::string::npos,
             r.err.c_str());
    r = ortRun({"time", path("missing.onnx"), "--batch", "1"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find(path("missing.onnx").toStdString() + ": no such file") != std::string::npos, r.err.c_str());
    r = ortRun({"run", corrupt, corrupt, path("out")});  // an .onnx given as the input
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find(corrupt.toStdString() + " is not a .npy file") != std::string::npos, r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestOrtConsumer)
#include "test_ort_consumer.moc"
