// The workbench as a person uses it, step by step, on an ultralytics YOLOv8n .pt (the
// stand-in checkpoint fixture) and YOLO data: open the .pt, open the data (the model is
// rebuilt for its classes), train one short epoch, move the Remove slider, Apply, look at
// the detections, Undo, Export the ultralytics .pt. After every step the graph's block and
// node labels are read from the scene and compared with the widths of the model the
// workbench holds, and a screenshot of the window is saved: to $PRUNELAB_SHOTS_DIR when set
// (docs/images/walkthrough/ holds the committed ones, see docs/workbench.md), else to a
// temporary folder.

#include <QDockWidget>
#include <QProcess>
#include <QPushButton>
#include <QtTest/QtTest>

#include "../support/graph_labels.h"
#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "interop/trainer_checkpoint.h"
#include "widgets/detections_panel.h"
#include "widgets/export_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/network_graph_view.h"
#include "widgets/prune_panel.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {
constexpr int kWaitMs = 300000;
}  // namespace

class TestWalkthrough : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  QString m_shots;
  int m_step = 0;

  void shot(Workbench& bench, const char* name) {
    QTest::qWait(300);  // queued replots land
    const QString file = QDir(m_shots).filePath(QString("%1-%2.png").arg(++m_step).arg(name));
    QVERIFY2(bench.window().grab().save(file), qPrintable(file));
    qInfo("step %d (%s): %s", m_step, name, qPrintable(file));
  }

  // Every block and node box agrees with the model the workbench holds.
  void labelsMatch(Workbench& bench, const char* when, bool planPending) {
    const Graph& g = *bench.model().skeleton;
    widgets::NetworkGraphView& view = *bench.window().graphView();
    QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), kWaitMs);
    if (planPending)  // the blocks show the planned cut (their labels update after the plan)
      QTRY_VERIFY2_WITH_TIMEOUT(
          [&] {
            int cut = 0;
            for (const auto& [scope, kt] : test::shownBlockCounts(view)) cut += kt.first < kt.second;
            return cut >= 3;
          }(),
          when, 10000);
    const auto shown = test::shownBlockCounts(view);
    QStringList scopes;
    for (const auto& [s, kt] : shown) scopes << s;
    QVERIFY2(scopes.size() >= 10, when);
    const auto model = test::blockCounts(g, scopes);
    for (const auto& [scope, kt] : shown) {
      QVERIFY2(kt.second == model.at(scope).second,
               qPrintable(QString("%1: %2 shows %3/%4, the model has %5").arg(when, scope).arg(kt.first).arg(kt.second)
                              .arg(model.at(scope).second)));
      if (!planPending) QVERIFY2(kt.first == kt.second, qPrintable(QString("%1: %2 shows a cut").arg(when, scope)));
    }
    const std::string problem = test::nodeAndMacsProblem(view, g, planPending);
    QVERIFY2(problem.empty(), qPrintable(QString("%1: %2").arg(when, problem.c_str())));
  }

 private Q_SLOTS:
  void initTestCase() {
    prunelab::test::useCleanWorkbenchSettings();
    m_shots = qEnvironmentVariable("PRUNELAB_SHOTS_DIR", m_dir.path() + "/shots");
    QVERIFY(QDir().mkpath(m_shots));
  }

  void openTrainPruneUndoExport() {
    const QString data = m_dir.path() + "/fd";
    QProcess p;
    p.start(PRUNELAB_CLI, {"make-dataset", "fashion-det", "--out", data, "--train", "16", "--val", "8", "--size", "96"});
    QVERIFY(p.waitForFinished(120000) && p.exitCode() == 0);

    Workbench bench;
    bench.window().resize(1600, 1000);
    bench.window().show();
    QVERIFY(QTest::qWaitForWindowExposed(&bench.window()));
    widgets::LogPanel* log = bench.window().logPanel();

    // 1. Open the .pt (File > Open model).
    ModelSpec m;
    m.model = PRUNELAB_PT_DIR "/yolov8n_nc3.pt";
    m.imageSize = 96;
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton, kWaitMs);
    labelsMatch(bench, "opened", false);
    shot(bench, "opened");

    // 2. Open the data (Data > Open): 10 classes, the model follows.
    DataSpec d;
    d.spec = (data + "/data.yaml").toStdString();
    bench.openData(d);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton->metadata().at("num_classes") == "10", kWaitMs);
    labelsMatch(bench, "data opened", false);
    shot(bench, "data");

    // 3. Train one short epoch (Train > Start): curves and a γ snapshot at its end.
    QSignalSpy finished(&bench, &Workbench::trainingFinished);
    TrainSettings t;
    t.epochs = 1;
    t.batch = 8;
    t.lr = 0.002;
    bench.startTraining(t);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
    QVERIFY(bench.window().gammaPanel()->lastEpoch() >= 0.99);
    shot(bench, "trained");

    // 4. Move the Remove slider to 30 %: bn scores itself, the plan shows at once.
    QSignalSpy whatIf(&bench, &Workbench::whatIfUpdated);
    bench.window().prunePanel()->setPercent(0.3);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && !whatIf.isEmpty() &&
                                 whatIf.last().at(0).value<widgets::WhatIf>().channelsRemoved > 0, kWaitMs);
    labelsMatch(bench, "planned", true);
    shot(bench, "planned");

    // 5. Apply: the cut is made; every label shows the new widths.
    const int64_t before = bench.model().skeleton->parameterCount();
    const int trained = bench.model().historyIndex;
    bench.applyPlan();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == trained + 1, kWaitMs);
    bench.window().prunePanel()->setPercent(0);
    QTRY_VERIFY(bench.idle());
    QVERIFY(bench.model().skeleton->parameterCount() < before);
    labelsMatch(bench, "applied", false);
    // The γ panel continues the time axis after the cut and says what made the snapshot.
    QVERIFY2(bench.window().gammaPanel()->statsText().contains("epoch 1.0"),
             qPrintable(bench.window().gammaPanel()->statsText()));
    shot(bench, "applied");

    // 6. Detections: before and after the cut, side by side.
    for (QDockWidget* dock : bench.window().findChildren<QDockWidget*>())
      if (dock->widget() == bench.window().detectionsPanel()) {
        dock->show();
        dock->raise();
      }
    QTRY_VERIFY_WITH_TIMEOUT(!bench.window().detectionsPanel()->preview().samples.isEmpty(), kWaitMs);
    shot(bench, "detections");

    // 7. Undo: back to the trained model, labels and all.
    bench.undo();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == trained, kWaitMs);
    QCOMPARE(bench.model().skeleton->parameterCount(), before);
    labelsMatch(bench, "undone", false);
    shot(bench, "undone");

    // 8. Redo, then Export the ultralytics .pt from the Export panel: read back and checked.
    bench.redo();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == trained + 1, kWaitMs);
    widgets::ExportPanel* panel = bench.window().exportPanel();
    panel->setFormat("ultralytics");
    panel->setPath(m_dir.path() + "/pruned.pt");
    for (QPushButton* b : panel->findChildren<QPushButton*>())
      if (b->text() == "Export") b->click();
    QTRY_VERIFY_WITH_TIMEOUT(!panel->checkResult().isEmpty() && bench.idle(), kWaitMs);
    QVERIFY2(panel->checkResult().contains("read back and checked"), qPrintable(panel->checkResult()));
    QCOMPARE(readTrainerCheckpoint((m_dir.path() + "/pruned.pt").toStdString()).modelClass,
             std::string("ultralytics.nn.tasks.DetectionModel"));
    shot(bench, "exported");
    QCOMPARE(log->errorCount(), 0);
  }
};

QTEST_MAIN(TestWalkthrough)
#include "test_walkthrough.moc"
