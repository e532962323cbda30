// The workbench on bad files (issue 15 item 12): File > Open of a damaged .plm, a YAML
// with a stride-0 convolution and a .plm with NaN weights logs the same message the CLI
// prints, and the workbench stays usable (it opens a good model afterwards).

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>
#include <limits>

#include "gui/workbench.h"
#include "io/checkpoint.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {
constexpr int kWaitMs = 120000;

std::string readAll(const QString& path) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void writeAll(const QString& path, const std::string& bytes) {
  std::ofstream(path.toStdString(), std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// What `prunelab-cli info --model path` prints after "error: " or "warning: ".
QString cliMessage(const QString& path, const QString& kind) {
  QProcess p;
  p.start(PRUNELAB_CLI, {"info", "--model", path});
  p.waitForFinished(kWaitMs);
  const QString err = QString::fromUtf8(p.readAllStandardError());
  const int at = err.indexOf(kind + ": ");
  if (at < 0) return {};
  return err.mid(at + kind.size() + 2).section('\n', 0, 0);
}
}  // namespace

class TestBadFilesWorkbench : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  QString file(const QString& name) const { return m_dir.path() + "/" + name; }

 private Q_SLOTS:
  void initTestCase() {
    QProcess p;
    p.start(PRUNELAB_CLI, {"export", "--model", "resnet20", "--format", "native", "--out", file("good.plm")});
    QVERIFY(p.waitForFinished(kWaitMs) && p.exitCode() == 0);
    std::string flipped = readAll(file("good.plm"));
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
    writeAll(file("flipped.plm"), flipped);
    std::string yaml = readAll(PRUNELAB_SOURCE_DIR "/resources/models/yolov5n.yaml");
    yaml.replace(yaml.find("[128, 3, 2]] # 1"), 16, "[128, 3, 0]] # 1");
    writeAll(file("stride0.yaml"), yaml);
    writeAll(file("random.onnx"), std::string(3000, '\x17'));
  }

  void badFilesLogTheCliMessage_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("says");
    QTest::newRow("flipped byte") << "flipped.plm" << "CRC";
    QTest::newRow("stride 0") << "stride0.yaml" << "stride 0";
    QTest::newRow("random bytes") << "random.onnx" << "not a valid ONNX model";
  }

  void badFilesLogTheCliMessage() {
    QFETCH(QString, name);
    QFETCH(QString, says);
    const QString cli = cliMessage(file(name), "error");
    QVERIFY2(cli.contains(says) && cli.contains(name), qPrintable(cli));
    Workbench bench;
    widgets::LogPanel* log = bench.window().logPanel();
    Q_EMIT bench.window().modelRequested(file(name));  // File > Open
    QTRY_VERIFY_WITH_TIMEOUT(log->errorCount() > 0, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
    QVERIFY2(log->toPlainText().contains(cli), qPrintable("CLI: " + cli + "\nlog:\n" + log->toPlainText()));
    QVERIFY(!log->toPlainText().contains("Exception raised from"));
    // Still usable: a good model opens after the bad one.
    Q_EMIT bench.window().modelRequested(file("good.plm"));
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton, kWaitMs);
  }

  void nanWeightsAreAWarningInTheLog() {
    // A checkpoint whose stem conv holds two NaN values: the workbench must warn, not refuse.
    Checkpoint ck = loadCheckpoint(file("good.plm").toStdString());
    const NodeId conv = ck.graph.findNode("conv1")->id;
    at::Tensor w = ck.graph.node(conv).tensor("weight").detach().view(-1);
    w[0] = std::numeric_limits<float>::quiet_NaN();
    w[1] = std::numeric_limits<float>::infinity();
    saveCheckpoint(file("nan.plm").toStdString(), ck);
    const QString cli = cliMessage(file("nan.plm"), "warning");
    QVERIFY2(cli.contains("NaN/Inf") && cli.contains("conv1.weight: 2"), qPrintable(cli));
    Workbench bench;
    widgets::LogPanel* log = bench.window().logPanel();
    Q_EMIT bench.window().modelRequested(file("nan.plm"));
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton, kWaitMs);
    QVERIFY2(log->toPlainText().contains(cli), qPrintable("CLI: " + cli + "\nlog:\n" + log->toPlainText()));
  }
};

QTEST_MAIN(TestBadFilesWorkbench)
#include "test_bad_files_workbench.moc"
