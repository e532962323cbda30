// The workbench on a yolov5/ultralytics .pt (issue 14): File > Open of an 80-class YOLOv8n
// checkpoint shows its class names in the log; opening 10-class YOLO data then rebuilds it
// for those classes with the matching weights and logs the transfer, as the CLI's train
// does. The checkpoint comes from the make_pt_checkpoints fixture (test_pt_checkpoint).
// Then the whole story on that opened .pt: sparse-train, prune, fine-tune, a pruned ONNX
// and the report, without a terminal (issue 14's goal).

#include <QDir>
#include <QProcess>
#include <QComboBox>
#include <QPushButton>
#include <QStandardItemModel>
#include <QtTest/QtTest>

#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "interop/trainer_checkpoint.h"
#include "io/checkpoint.h"
#include "io/onnx_import.h"
#include "widgets/export_panel.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {
constexpr int kWaitMs = 120000;
}  // namespace

class TestPtWorkbench : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }

  void openPtThenDataTransfers() {
    QProcess p;
    const QString data = m_dir.path() + "/fd";
    p.start(PRUNELAB_CLI, {"make-dataset", "fashion-det", "--out", data, "--train", "8", "--val", "4", "--size", "64"});
    QVERIFY(p.waitForFinished(120000) && p.exitCode() == 0);

    Workbench bench;
    widgets::LogPanel* log = bench.window().logPanel();
    ModelSpec m;
    m.model = PRUNELAB_PT_DIR "/yolov8n_nc80.pt";
    m.imageSize = 64;
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton, kWaitMs);
    QCOMPARE(log->errorCount(), 0);
    QVERIFY2(log->toPlainText().contains("classes (80): 0: class0_yolov8n, 1: class1_yolov8n"),
             qPrintable(log->toPlainText()));
    QCOMPARE(bench.model().skeleton->metadata().at("num_classes"), std::string("80"));

    DataSpec d;
    d.spec = (data + "/data.yaml").toStdString();
    bench.openData(d);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton->metadata().at("num_classes") == "10", kWaitMs);
    QCOMPARE(log->errorCount(), 0);
    const QString text = log->toPlainText();
    QVERIFY2(text.contains("transferred 319/355 tensors from "), qPrintable(text));
    QVERIFY2(text.contains("skipped model.22.cv3.0.2.weight (file 80x80x1x1, model 10x64x1x1)"), qPrintable(text));

    // The story from here, as Story > Run the whole story runs it.
    QTemporaryDir runs;
    QSettings().setValue("runs/dir", runs.path());
    QSignalSpy done(&bench, &Workbench::storyFinished);
    QSignalSpy errors(&bench, &Workbench::errorShown);
    bench.runStory(1, 1);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 600000);
    QVERIFY2(errors.isEmpty(), errors.isEmpty() ? "" : qPrintable(errors.first().first().toString()));
    const QDir dir(bench.lastStoryDir());
    for (const char* f : {"0-original.plm", "2-pruned.plm", "3-fine-tuned.plm", "pruned.onnx", "pruned.pt", "report.html",
                          "report.pdf"})
      QVERIFY2(dir.exists(f), f);
    const Graph original = loadCheckpoint(dir.filePath("0-original.plm").toStdString()).graph;
    const Graph tuned = loadCheckpoint(dir.filePath("3-fine-tuned.plm").toStdString()).graph;
    QCOMPARE(original.metadata().at("num_classes"), std::string("10"));
    QVERIFY2(tuned.parameterCount() < original.parameterCount(),
             qPrintable(QString("%1 -> %2").arg(original.parameterCount()).arg(tuned.parameterCount())));
    QVERIFY(importOnnx(dir.filePath("pruned.onnx").toStdString()).parameterCount() <= tuned.parameterCount());
    // The story's .pt goes back to ultralytics: 10 classes, the fine-tuned widths.
    const PtReadBack back = readTrainerCheckpoint(dir.filePath("pruned.pt").toStdString());
    QCOMPARE(back.modelClass, std::string("ultralytics.nn.tasks.DetectionModel"));
    QVERIFY2(back.problems.empty(), back.problems.empty() ? "" : back.problems.front().c_str());
  }

  // The Export panel: every format is written by the worker through core's exportModel and
  // read back; the panel shows the check. The .pt formats follow the model.
  void exportPanelChecksEveryFormat() {
    Workbench bench;
    ModelSpec m;
    m.model = PRUNELAB_PT_DIR "/yolov8n_nc3.pt";
    m.imageSize = 64;
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton, kWaitMs);
    widgets::ExportPanel* panel = bench.window().exportPanel();
    QPushButton* button = nullptr;
    for (QPushButton* b : panel->findChildren<QPushButton*>())
      if (b->text() == "Export") button = b;
    QVERIFY(button);
    auto exportAs = [&](const QString& format, const QString& file) {
      panel->setFormat(format);
      panel->setPath(m_dir.path() + "/" + file);
      QCOMPARE(panel->format(), format);
      panel->setCheckResult("");
      button->click();  // the panel sits in a tab the offscreen window never shows
      QTRY_VERIFY_WITH_TIMEOUT(!panel->checkResult().isEmpty() && bench.idle(), kWaitMs);
      QVERIFY2(panel->checkResult().contains("read back and checked"), qPrintable(panel->checkResult()));
    };
    exportAs("native", "v8.plm");
    exportAs("onnx", "v8.onnx");
    exportAs("torchscript", "v8.pt");
    exportAs("ultralytics", "v8-ultralytics.pt");
    const PtReadBack back = readTrainerCheckpoint((m_dir.path() + "/v8-ultralytics.pt").toStdString());
    QCOMPARE(back.modelClass, std::string("ultralytics.nn.tasks.DetectionModel"));
    QVERIFY(back.problems.empty());

    // A zoo ResNet goes out as torchvision objects; the trainers' formats are disabled.
    ModelSpec r;
    r.model = "resnet20";
    r.numClasses = 10;
    bench.openModel(r);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton &&
                                 bench.model().skeleton->metadata().at("model") == "resnet20", kWaitMs);
    auto* combo = panel->findChild<QComboBox*>();
    auto* items = qobject_cast<QStandardItemModel*>(combo->model());
    QVERIFY(!items->item(combo->findData("ultralytics"))->isEnabled());
    QVERIFY(items->item(combo->findData("torch"))->isEnabled());
    exportAs("torch", "r20.pt");
    QCOMPARE(readTrainerCheckpoint((m_dir.path() + "/r20.pt").toStdString()).modelClass,
             std::string("torchvision.models.resnet.ResNet"));
  }
};

QTEST_MAIN(TestPtWorkbench)
#include "test_pt_workbench.moc"
