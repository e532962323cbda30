// The workbench wired end to end (offscreen): panels -> controller -> worker thread ->
// core, on a real ResNet-20 and real Fashion-MNIST images. Every check goes through the
// same signals a user's clicks produce.

#include <QAction>
#include <QCheckBox>
#include <QDockWidget>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QPushButton>
#include <QtTest/QtTest>

#include "analysis/cost.h"
#include "../support/workbench_open.h"
#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "io/checkpoint.h"
#include "io/onnx_import.h"
#include "widgets/export_panel.h"
#include "widgets/sensitivity_panel.h"
#include "widgets/channels_panel.h"
#include "widgets/curves_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/layer_table_model.h"
#include "widgets/layers_panel.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"
#include "widgets/sr_control.h"
#include "widgets/train_panel.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {

constexpr int kWaitMs = 120000;

void openSmall(Workbench& bench) { prunelab::test::openFashionMnist(bench, 2048, 256); }

// Output shapes of every node, by name: the structure undo must restore.
std::map<std::string, Shape> shapesOf(const Graph& g) {
  std::map<std::string, Shape> out;
  for (const Node& n : g.nodes())
    if (!n.outputs.empty()) out[n.name] = g.value(n.outputs[0]).shape;
  return out;
}

}  // namespace

class TestWorkbench : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }
  void srChangeReachesNextStep();
  void queuedRunKeepsSrAndCancel();
  void autopilotToggleHandsOverToTheSlider();
  void ratioEditUpdatesWhatIf();
  void cancelResetsProgress();
  void curvesRestartForTheNextRun();
  void channelToggleChangesPlan();
  void exportPanelWritesEveryFormat();
  void undoRestoresPreviousGraph();
  void applyWithRefitLowersError();
  void sensitivityCellSetsPlan();
  void distilFromTheOriginal();
  void workerErrorShowsInLog();
  void projectRoundTrip();
  void layoutAndSettingsPersist();
};

void TestWorkbench::srChangeReachesNextStep() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  const int framesBefore = bench.window().gammaPanel()->frameCount();
  bench.window().trainPanel()->srControl()->setValue(0.0);

  QSignalSpy steps(&bench, &Workbench::trainSteps);
  QSignalSpy finished(&bench, &Workbench::trainingFinished);
  TrainSettings s;
  s.epochs = 1;
  s.batch = 16;
  s.lr = 0.05;
  s.sr = 0.0;
  s.gammaEvery = 5;
  bench.startTraining(s);
  QTRY_VERIFY_WITH_TIMEOUT(bench.lastTrainerStep() >= 3, kWaitMs);

  // The user moves sr while the trainer runs. Steps finished before the move used the
  // old value. `after` is the last finished step seen once the move is done: step
  // after+1 may have started before it, but every step from after+2 on starts later and
  // must use the new value (the GUI thread can be preempted between any two lines here).
  const int64_t before = bench.lastTrainerStep();
  bench.window().trainPanel()->srControl()->setValue(5e-3);
  QCOMPARE(bench.control().sr.load(), 5e-3);
  const int64_t after = bench.lastTrainerStep();
  QTRY_VERIFY_WITH_TIMEOUT(bench.lastTrainerStep() >= after + 4, kWaitMs);
  bench.control().cancelled.store(true);
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);

  std::map<int64_t, double> srByStep;
  for (const auto& args : steps)
    for (const widgets::StepPoint& p : args.at(0).value<QVector<widgets::StepPoint>>()) srByStep[p.step] = p.sr;
  QVERIFY(srByStep.count(0));
  QCOMPARE(srByStep[0], 0.0);
  int checked = 0;
  for (const auto& [step, sr] : srByStep) {
    if (step <= before) QCOMPARE(sr, 0.0);
    if (step >= after + 2) {
      QCOMPARE(sr, 5e-3);
      ++checked;
    }
  }
  QVERIFY2(checked >= 2, "steps after the change were reported");
  // The BN-gamma histogram received live snapshots during the run.
  QVERIFY(bench.window().gammaPanel()->frameCount() > framesBefore);
}

// A run waiting in the worker's queue (behind an evaluation) already has its control:
// an sr move made then is what its first step uses, and a Cancel made then stops it
// before any step (item 6 of the one-core issue: one writer, nothing reset on start).
void TestWorkbench::queuedRunKeepsSrAndCancel() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  bench.window().trainPanel()->srControl()->setValue(0.0);
  TrainSettings s;
  s.epochs = 1;
  s.batch = 16;
  s.lr = 0.05;
  s.sr = 0.0;
  s.gammaEvery = 5;
  {
    QSignalSpy steps(&bench, &Workbench::trainSteps);
    QSignalSpy finished(&bench, &Workbench::trainingFinished);
    bench.evaluate();  // occupies the worker
    bench.startTraining(s);
    bench.window().trainPanel()->srControl()->setValue(2e-3);
    QCOMPARE(bench.lastTrainerStep(), int64_t{-1});  // the run has not started yet
    QTRY_VERIFY_WITH_TIMEOUT(bench.lastTrainerStep() >= 2, kWaitMs);
    bench.control().cancelled.store(true);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    std::map<int64_t, double> srByStep;
    for (const auto& args : steps)
      for (const widgets::StepPoint& p : args.at(0).value<QVector<widgets::StepPoint>>()) srByStep[p.step] = p.sr;
    QVERIFY(srByStep.count(0));
    QCOMPARE(srByStep[0], 2e-3);
    // The status says the sr the run used.
    QVERIFY2(finished.at(0).at(1).toString().contains("sr 0.002"), qPrintable(finished.at(0).at(1).toString()));
  }
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
  const int versions = bench.model().historySize;
  {
    QSignalSpy steps(&bench, &Workbench::trainSteps);
    QSignalSpy finished(&bench, &Workbench::trainingFinished);
    bench.evaluate();
    bench.startTraining(s);
    bench.control().cancelled.store(true);  // Cancel while queued
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QCOMPARE(steps.count(), 0);
  }
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
  QCOMPARE(bench.model().historySize, versions);  // nothing trained, nothing pushed
}

// The sr autopilot box (issue 18 item 6): checked at Start, the pilot moves sr and the
// slider follows without that counting as a hand move; the user's move unchecks the box,
// the log says so and the pilot never writes sr again in that run.
void TestWorkbench::autopilotToggleHandsOverToTheSlider() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  widgets::TrainPanel* panel = bench.window().trainPanel();
  widgets::TrainRequest r = panel->request();
  r.epochs = 2;
  r.batch = 16;
  r.lr = 0.05;
  r.sr = 0.0;
  r.autopilot = true;
  r.sparsityTarget = 0.3;
  r.byEpoch = 2;
  panel->setRequest(r);
  QSignalSpy finished(&bench, &Workbench::trainingFinished);
  panel->startButton()->click();
  QVERIFY(panel->autopilotBox()->isEnabled());  // a piloted run can be handed over
  QTRY_VERIFY_WITH_TIMEOUT(bench.lastTrainerStep() >= 8, kWaitMs);
  QVERIFY(bench.control().autopilot.load());
  QVERIFY(bench.control().sr.load() > 0);  // the pilot started from 0 and moved it
  QTRY_VERIFY_WITH_TIMEOUT(panel->srControl()->value() > 0, kWaitMs);  // the slider follows the pilot
  QVERIFY(panel->autopilotBox()->isChecked());  // ...and following it was no hand move

  panel->srControl()->setValue(7e-4);  // the user's hand
  QVERIFY(!panel->autopilotBox()->isChecked());
  QVERIFY(!bench.control().autopilot.load());
  QCOMPARE(bench.control().sr.load(), 7e-4);
  const int64_t after = bench.lastTrainerStep();
  QTRY_VERIFY_WITH_TIMEOUT(bench.lastTrainerStep() >= after + 6, kWaitMs);
  QCOMPARE(bench.control().sr.load(), 7e-4);  // the pilot let go
  QCOMPARE(panel->srControl()->value(), 7e-4);
  bench.control().cancelled.store(true);
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
  const QString log = bench.window().logPanel()->toPlainText();
  QVERIFY2(log.contains("sr autopilot off: sr was moved by hand"), qPrintable(log));
}

void TestWorkbench::ratioEditUpdatesWhatIf() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  widgets::LayerTableModel* table = bench.window().layersPanel()->model();
  int row = -1;
  for (int r = 0; r < table->rowCount(); ++r)
    if (table->rows()[r].prunable && table->rows()[r].name == "layer3.0.conv1") row = r;
  QVERIFY(row >= 0);
  const widgets::WhatIf start = bench.whatIf();
  QCOMPARE(start.after.params, start.before.params);

  QSignalSpy spy(&bench, &Workbench::whatIfUpdated);
  QVERIFY(table->setData(table->index(row, widgets::LayerTableModel::Ratio), "50 %", Qt::EditRole));
  QCOMPARE(spy.count(), 1);
  const auto w = spy.at(0).at(0).value<widgets::WhatIf>();
  // layer3.0.conv1 (32 in, 64 out) feeds only layer3.0.bn1 and conv2 (64x64x3x3):
  // removing 32 channels saves 32 x (32x3x3 + 2 BN + 64x3x3) = 27,712 params.
  QCOMPARE(w.before.params - w.after.params, int64_t(32 * (32 * 9 + 2 + 64 * 9)));
  QVERIFY(w.after.macs < w.before.macs);
  QVERIFY(w.after.sizeBytes < w.before.sizeBytes);
  QCOMPARE(table->rows()[row].kept, 32);
  QCOMPARE(bench.window().prunePanel()->afterLabel(0)->text().isEmpty(), false);
  // The latency row says which number is a measurement and which is the measured one
  // scaled by the MACs kept (issue 15): nothing planned, "after" is the measured model.
  QVERIFY(start.before.latencyMs > 0 && !start.before.latencyEstimated && !start.after.latencyEstimated);
  QVERIFY(!w.before.latencyEstimated);
  QVERIFY(w.after.latencyEstimated);
  QCOMPARE(w.after.latencyMs, w.before.latencyMs * double(w.after.macs) / double(w.before.macs));
  const QString latency = bench.window().prunePanel()->afterLabel(3)->text();
  QVERIFY2(latency.contains("est.") && latency.contains("MACs") && !latency.contains("measured"), qPrintable(latency));
  QVERIFY(!bench.window().prunePanel()->afterLabel(3)->toolTip().isEmpty());
  QVERIFY(table->setData(table->index(row, widgets::LayerTableModel::Ratio), "0 %", Qt::EditRole));
  const QString unplanned = bench.window().prunePanel()->afterLabel(3)->text();
  QVERIFY2(unplanned.contains("measured") && !unplanned.contains("est."), qPrintable(unplanned));
}

// Cancel: the run ends early and the training progress bar does not keep its partial
// value (issue 15); the status bar's task progress goes away with the task.
void TestWorkbench::cancelResetsProgress() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  widgets::TrainPanel* panel = bench.window().trainPanel();
  QSignalSpy finished(&bench, &Workbench::trainingFinished);
  TrainSettings s;
  s.epochs = 3;  // 3 x 128 steps: far more than the test needs before its Cancel
  s.batch = 16;
  s.lr = 0.05;
  bench.startTraining(s);
  QTRY_VERIFY_WITH_TIMEOUT(panel->progressBar()->value() > 0, kWaitMs);
  QVERIFY(panel->cancelButton()->isEnabled());
  panel->cancelButton()->click();
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
  QCOMPARE(finished.at(0).at(0).toBool(), false);  // it was cancelled, not completed
  QCOMPARE(panel->progressBar()->value(), 0);
  QCOMPARE(panel->etaLabel()->text(), QString("cancelled"));
  QVERIFY(panel->startButton()->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
  const auto bars = bench.window().statusBar()->findChildren<QProgressBar*>();
  QCOMPARE(bars.size(), qsizetype(1));
  QVERIFY(!bars.front()->isVisible());
}

// README (Workbench 4): the curves restart for the next run (a fine-tune after the cut
// starts from an empty plot instead of continuing the sparse run's lines).
void TestWorkbench::curvesRestartForTheNextRun() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  widgets::CurvesPanel* curves = bench.window().curvesPanel();
  QSignalSpy finished(&bench, &Workbench::trainingFinished);
  TrainSettings first;
  first.epochs = 3;  // 3 x 128 steps; cancelled once 20 are plotted
  first.batch = 16;
  first.lr = 0.05;
  bench.startTraining(first);
  QTRY_VERIFY_WITH_TIMEOUT(curves->pointCount("step/loss") >= 20, kWaitMs);
  bench.window().trainPanel()->cancelButton()->click();
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
  QVERIFY(curves->pointCount("step/loss") >= 20);
  TrainSettings second;
  second.epochs = 1;
  second.batch = 256;  // 8 steps of 2048 images
  second.lr = 0.01;
  bench.startTraining(second);
  QCOMPARE(curves->pointCount("step/loss"), 0);  // cleared at the start
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kWaitMs);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
  const int points = curves->pointCount("step/loss");
  QVERIFY2(points > 0 && points <= 8, qPrintable(QString::number(points)));
}

void TestWorkbench::channelToggleChangesPlan() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  const std::string layer = "layer2.1.conv1";
  const int g = bench.pruneModel().groupOfLayer(layer);
  QVERIFY(g >= 0);
  QVERIFY(bench.pruneModel().plan().removed[g].empty());
  widgets::ChannelsPanel* panel = bench.window().channelsPanel();
  Q_EMIT panel->channelsToggled(QString::fromStdString(layer), {3, 7}, true);
  QCOMPARE(bench.pruneModel().plan().removed[g], (std::vector<int64_t>{3, 7}));
  QCOMPARE(bench.whatIf().channelsRemoved, int64_t(2));
  Q_EMIT panel->channelsToggled(QString::fromStdString(layer), {3}, false);
  QCOMPARE(bench.pruneModel().plan().removed[g], (std::vector<int64_t>{7}));
  // The channel view shows the selected layer's plan.
  bench.selectLayer(QString::fromStdString(layer));
  QCOMPARE(bench.selectedLayer(), QString::fromStdString(layer));
}

void TestWorkbench::undoRestoresPreviousGraph() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  // A fresh model's BN gammas are all 1: rank by weight norm instead.
  bench.score("l1");
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().criterion() == "l1", kWaitMs);
  const auto original = bench.model().skeleton;
  const int64_t params = original->parameterCount();
  bench.window().prunePanel()->setPercent(0.3);
  QVERIFY(!bench.pruneModel().plan().empty());
  const int64_t planned = bench.whatIf().after.params;

  bench.applyPlan();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);
  QCOMPARE(bench.model().skeleton->parameterCount(), planned);  // the what-if was exact
  QVERIFY(planned < params);

  bench.undo();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 0, kWaitMs);
  QCOMPARE(bench.model().skeleton->parameterCount(), params);
  QVERIFY(shapesOf(*bench.model().skeleton) == shapesOf(*original));
  QCOMPARE(computeCost(*bench.model().skeleton).macs, computeCost(*original).macs);

  bench.redo();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);
  QCOMPARE(bench.model().skeleton->parameterCount(), planned);
}

// The Prune panel's "refit" box runs the least-squares reconstruction after the cut on
// the open data's calibration batches, and the log reports the error it removed.
void TestWorkbench::applyWithRefitLowersError() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  bench.score("l1");
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().criterion() == "l1", kWaitMs);
  widgets::PrunePanel* panel = bench.window().prunePanel();
  panel->setPercent(0.3);
  QVERIFY(!panel->reconstruct());  // off by default: it needs data and time
  panel->setReconstruct(true);
  const int64_t planned = bench.whatIf().after.params;
  bench.applyPlan();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);
  QCOMPARE(bench.model().skeleton->parameterCount(), planned);  // a refit changes weights, not shapes
  const QString log = bench.window().logPanel()->toPlainText();
  const QRegularExpression refit("Refitted (\\d+) of (\\d+) layer\\(s\\) by least squares on (.+) in .* error ([0-9.]+) -> ([0-9.]+)");
  const auto m = refit.match(log);
  QVERIFY2(m.hasMatch(), qPrintable(log));
  QVERIFY(m.captured(1).toInt() > 0);
  QVERIFY2(m.captured(3).contains("fashion-mnist"), qPrintable(m.captured(3)));
  QVERIFY2(m.captured(5).toDouble() < m.captured(4).toDouble(), qPrintable(m.captured(0)));
}

// The Sensitivity dock: a sweep on the worker fills the heat map; clicking a cell puts
// that group's ratio into the plan (issue 18 item 1).
void TestWorkbench::sensitivityCellSetsPlan() {
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  widgets::SensitivityPanel* panel = bench.window().sensitivityPanel();
  QSignalSpy progress(panel->heatMap(), &widgets::SensitivityHeatMap::cellClicked);
  bench.sweepSensitivity({0.25, 0.5}, 64);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && !panel->heatMap()->view().rows.isEmpty(), kWaitMs);
  const widgets::SensitivityView& v = panel->heatMap()->view();
  QCOMPARE(v.ratios, (QVector<double>{0.25, 0.5}));
  QCOMPARE(v.metric, QString("top1"));
  int row = -1;
  for (int r = 0; r < v.rows.size(); ++r)
    if (v.rows[r].group == "layer2.1.conv1") row = r;
  QVERIFY(row >= 0);
  for (const auto& r : v.rows) QCOMPARE(r.metric.size(), 2);
  const int g = bench.pruneModel().groupOfLayer("layer2.1.conv1");
  QVERIFY(bench.pruneModel().plan().removed[g].empty());
  // A real click on the cell (row, 50 %).
  panel->heatMap()->resize(panel->heatMap()->sizeHint());
  QTest::mouseClick(panel->heatMap(), Qt::LeftButton, {}, panel->heatMap()->cellRect(row, 1).center());
  QCOMPARE(progress.count(), 1);
  QCOMPARE(bench.pruneModel().plan().removed[g].size(), size_t(16));  // 50 % of 32 channels
  QVERIFY(bench.whatIf().channelsRemoved >= 16);
  // Another ratio of the same group replaces it.
  QTest::mouseClick(panel->heatMap(), Qt::LeftButton, {}, panel->heatMap()->cellRect(row, 0).center());
  QCOMPARE(bench.pruneModel().plan().removed[g].size(), size_t(8));
}

// "distil from the original" in the Train panel (issue 18 item 5): after a cut, the
// fine-tune's teacher is the version before it, and the run logs its KD term.
void TestWorkbench::distilFromTheOriginal() {
  QTemporaryDir runs;
  QSettings().setValue("runs/dir", runs.path());  // the Start button's run dir
  Workbench bench;
  openSmall(bench);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
  bench.score("l1");
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().criterion() == "l1", kWaitMs);
  bench.window().prunePanel()->setPercent(0.3);
  bench.applyPlan();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);

  widgets::TrainPanel* panel = bench.window().trainPanel();
  QVERIFY(!panel->distillBox()->isChecked());  // off by default
  widgets::TrainRequest r;
  r.epochs = 1;
  r.batch = 128;
  r.lr = 0.01;
  panel->setRequest(r);
  panel->distillBox()->click();
  QVERIFY(panel->request().distill);
  QSignalSpy finished(&bench, &Workbench::trainingFinished);
  panel->startButton()->click();
  QVERIFY(!panel->distillBox()->isEnabled());  // fixed while the run goes
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
  QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(bench.window().logPanel()->toPlainText()));
  QVERIFY(panel->distillBox()->isEnabled());

  const QString log = bench.window().logPanel()->toPlainText();
  QVERIFY2(log.contains("Distilling from 'loaded resnet20'"), qPrintable(log));
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 2, kWaitMs);
  QVERIFY2(QString::fromStdString(bench.model().label).contains("distilled"), bench.model().label.c_str());
  // The run's log has the KD term: the pruned student differs from its teacher.
  const QStringList dirs = QDir(runs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
  QCOMPARE(dirs.size(), qsizetype(1));
  QFile jsonl(QDir(runs.path()).filePath(dirs.front() + "/log.jsonl"));
  QVERIFY(jsonl.open(QIODevice::ReadOnly));
  const QJsonObject row = QJsonDocument::fromJson(jsonl.readLine()).object();
  QVERIFY2(row.contains("train/kd_loss") && row.value("train/kd_loss").toDouble() > 0, jsonl.fileName().toUtf8().constData());
  QSettings().remove("runs/dir");
}

void TestWorkbench::workerErrorShowsInLog() {
  Workbench bench;
  widgets::LogPanel* log = bench.window().logPanel();
  QSignalSpy errors(&bench, &Workbench::errorShown);
  ModelSpec bad;
  bad.model = "/nonexistent/broken_model.plm";
  bench.openModel(bad);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
  QCOMPARE(errors.count(), 1);
  QCOMPARE(log->errorCount(), 1);
  QVERIFY2(log->lastError().contains("broken_model.plm"), qPrintable(log->lastError()));

  // Training without data fails in the worker, and the Train panel is usable again.
  ModelSpec good;
  good.model = "resnet20";
  good.numClasses = 10;
  bench.openModel(good);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph(), kWaitMs);
  QSignalSpy finished(&bench, &Workbench::trainingFinished);
  bench.startTraining(TrainSettings{});
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
  QCOMPARE(finished.at(0).at(0).toBool(), false);
  QVERIFY(log->lastError().contains("dataset"));
  QVERIFY(bench.window().trainPanel()->startButton()->isEnabled());

  // Still usable: the next request works.
  bench.score("l2");
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().criterion() == "l2", kWaitMs);
  bench.window().prunePanel()->setPercent(0.2);
  QVERIFY(bench.whatIf().after.params < bench.whatIf().before.params);
}

void TestWorkbench::projectRoundTrip() {
  QTemporaryDir dir;
  const QString project = dir.filePath("session.prunelab");
  std::vector<int64_t> planned;
  int64_t params = 0;
  {
    Workbench bench;
    openSmall(bench);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
    // Settings a project keeps: round-to, minimum, ranking and the percent shown.
    widgets::PrunePanel* panel = bench.window().prunePanel();
    panel->restoreSettings(2, 3, "mean", false);
    QTRY_VERIFY(bench.idle());
    panel->setPercent(0.25);
    QTRY_VERIFY(bench.idle());
    bench.toggleChannels("layer2.0.conv1", {1, 4, 9}, true);
    planned = bench.pruneModel().plan().removed[bench.pruneModel().groupOfLayer("layer2.0.conv1")];
    params = bench.model().skeleton->parameterCount();
    QVERIFY(bench.saveProject(project));
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);  // the checkpoint is written by the worker
  }
  QVERIFY(QFileInfo::exists(dir.filePath("session.plm")));
  Workbench reopened;
  reopened.openProject(project);
  QTRY_VERIFY_WITH_TIMEOUT(reopened.idle() && reopened.pruneModel().hasScores(), kWaitMs);
  QCOMPARE(reopened.model().skeleton->parameterCount(), params);
  QCOMPARE(reopened.pruneModel().plan().removed[reopened.pruneModel().groupOfLayer("layer2.0.conv1")], planned);
  QCOMPARE(reopened.window().logPanel()->errorCount(), 0);
  const widgets::PrunePanel* panel = reopened.window().prunePanel();
  QCOMPARE(panel->roundTo(), 2);
  QCOMPARE(panel->minChannels(), 3);
  QCOMPARE(panel->normalization(), QString("mean"));
  QCOMPARE(panel->percent(), 0.25);
  QCOMPARE(reopened.pruneModel().constraints().roundTo, int64_t(2));
  QCOMPARE(reopened.pruneModel().constraints().minChannels, int64_t(3));

  // A damaged project file is an error naming it, not a crash.
  QFile bad(dir.filePath("bad.prunelab"));
  QVERIFY(bad.open(QIODevice::WriteOnly));
  bad.write("{ not json");
  bad.close();
  reopened.openProject(bad.fileName());
  QVERIFY(reopened.window().logPanel()->lastError().contains("bad.prunelab"));
}

// The Export panel's three formats, clicked: each file is written by the worker and
// reads back with the model's parameter count (ONNX through the importer, folded or not).
void TestWorkbench::exportPanelWritesEveryFormat() {
  QTemporaryDir dir;
  Workbench bench;
  ModelSpec m;
  m.model = "resnet20";
  m.numClasses = 10;
  bench.openModel(m);
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph(), kWaitMs);
  const int64_t params = bench.model().skeleton->parameterCount();
  widgets::ExportPanel* panel = bench.window().exportPanel();
  QPushButton* exportButton = nullptr;
  for (auto* b : panel->findChildren<QPushButton*>())
    if (b->text() == "Export") exportButton = b;
  QVERIFY(exportButton);
  QSignalSpy errors(&bench, &Workbench::errorShown);

  panel->setPath(dir.filePath("model.plm"));
  panel->setFormat("onnx");
  QCOMPARE(panel->path(), dir.filePath("model.onnx"));  // the extension follows the format
  exportButton->click();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && QFileInfo::exists(dir.filePath("model.onnx")), kWaitMs);
  QCOMPARE(importOnnx(dir.filePath("model.onnx").toStdString()).parameterCount(), params);

  panel->setFormat("torchscript");
  exportButton->click();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && QFileInfo::exists(dir.filePath("model.pt")), kWaitMs);
  QVERIFY(QFileInfo(dir.filePath("model.pt")).size() > params * 4);

  panel->setFormat("native");
  exportButton->click();
  QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && QFileInfo::exists(dir.filePath("model.plm")), kWaitMs);
  QCOMPARE(loadCheckpoint(dir.filePath("model.plm").toStdString()).graph.parameterCount(), params);
  QCOMPARE(errors.count(), 0);
}

// README (Workbench): the window layout and the last settings survive a restart; View >
// Reset layout brings every panel back.
void TestWorkbench::layoutAndSettingsPersist() {
  {
    Workbench bench;
    bench.window().show();
    QDockWidget* log = bench.window().findChild<QDockWidget*>("LogDock");
    QVERIFY(log && log->isVisible());
    log->hide();
    widgets::TrainRequest r = bench.window().trainPanel()->request();
    r.epochs = 7;
    r.batch = 48;
    bench.window().trainPanel()->setRequest(r);
    bench.window().prunePanel()->setCriterion("l2");
    bench.window().close();  // the layout is saved when the window closes
  }                          // the settings when the workbench goes
  Workbench again;
  again.window().show();
  QDockWidget* log = again.window().findChild<QDockWidget*>("LogDock");
  QVERIFY(log);
  QVERIFY(!log->isVisible());
  QVERIFY(again.window().findChild<QDockWidget*>("TrainDock")->isVisible());
  QCOMPARE(again.window().trainPanel()->request().epochs, 7);
  QCOMPARE(again.window().trainPanel()->request().batch, 48);
  QCOMPARE(again.window().prunePanel()->criterion(), QString("l2"));
  QAction* reset = nullptr;
  for (QAction* a : again.window().findChildren<QAction*>())
    if (a->text().remove('&') == "Reset layout") reset = a;
  QVERIFY(reset);
  reset->trigger();
  QVERIFY(log->isVisible());
  again.window().hide();
  QSettings().clear();  // the next tests start from the defaults
}

QTEST_MAIN(TestWorkbench)
#include "test_workbench.moc"
