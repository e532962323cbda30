#include "gui/story_run.h"

#include "models/yolo/yolo_checkpoint.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QStatusBar>
#include <QTimer>
#include <algorithm>

#include "gui/workbench.h"
#include "util/parse_number.h"
#include "widgets/format.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"
#include "widgets/train_panel.h"

namespace prunelab::gui {

StoryRun::StoryRun(Workbench& bench, const StoryOptions& options, QObject* parent)
    : QObject(parent), m_bench(bench), m_opt(options) {}

double StoryRun::fraction() const {
  const double inStage = m_stageName == "sparse" || m_stageName == "fine-tune" ? std::clamp(m_trainProgress, 0.0, 1.0) : 0.0;
  return std::clamp(m_doneWeight + m_stageWeight * inStage, 0.0, 1.0);
}

void StoryRun::stage(const QString& name, double weight) {
  m_doneWeight += m_stageWeight;
  m_trainProgress = 0;
  m_stageName = name;
  m_stageWeight = weight;
  m_bench.log("Story: " + name);
  updateStatus();
}

void StoryRun::updateStatus() {
  if (!m_status) return;
  const double f = fraction();
  const double elapsed = m_clock.elapsed() / 1000.0;
  const QString eta = f > 0.02 ? widgets::formatDuration(elapsed * (1 - f) / f) : QString("...");
  m_status->setText(QString("Story: %1 · %2 % · ETA %3").arg(m_stageName).arg(qRound(100 * f)).arg(eta));
}

void StoryRun::shot(const QString& name, std::function<void()> next) {
  QTimer::singleShot(m_opt.shotsDir.isEmpty() ? 0 : 1500, this, [this, name, next] {
    if (m_failed) return;
    if (!m_opt.shotsDir.isEmpty()) {
      QDir().mkpath(m_opt.shotsDir);
      m_bench.window().grab().save(QDir(m_opt.shotsDir).filePath(name + ".png"));
    }
    next();
  });
}

void StoryRun::save(const QString& file) { m_bench.exportModel("native", QDir(m_dir).filePath(file)); }

void StoryRun::saveAndEvaluate(const QString& stageName, const QString& file) {
  save(file);
  auto conn = std::make_shared<QMetaObject::Connection>();
  *conn = connect(&m_bench, &Workbench::evaluatedMetric, this, [this, stageName, conn](const QString&, double v) {
    disconnect(*conn);
    m_metric[stageName] = v;
  });
  m_bench.evaluate();
}

void StoryRun::fail(const QString& why) {
  if (m_failed) return;
  m_failed = true;
  if (m_tick) m_tick->stop();
  if (m_status) m_status->setText("Story stopped: " + why);
  Q_EMIT finished(false, {});
}

bool StoryRun::prepare() {
  if (!m_bench.hasData()) {
    fail("open a dataset first (the story trains)");
    return false;
  }
  m_dir = m_opt.runDir.isEmpty() ? m_bench.newRunDir("story") : m_opt.runDir;
  if (!QDir().mkpath(m_dir)) {
    fail("cannot create " + m_dir);
    return false;
  }
  m_clock.start();
  m_status = new QLabel(&m_bench.window());
  m_bench.window().statusBar()->addPermanentWidget(m_status);
  m_tick = new QTimer(this);
  connect(m_tick, &QTimer::timeout, this, &StoryRun::updateStatus);
  m_tick->start(500);
  connect(&m_bench, &Workbench::errorShown, this, [this](const QString& m) { fail(m); });
  // The running training's share done (steps carry the fraction of the whole run).
  connect(&m_bench, &Workbench::trainSteps, this, [this](const QVector<widgets::StepPoint>& steps) {
    if (!steps.isEmpty()) m_trainProgress = std::max(m_trainProgress, steps.back().progress);
  });
  return true;
}

// The story's plan (session/story_plan.h) from the options and the panels, and the
// commands that redo it.
StoryPlan StoryRun::plan() {
  const widgets::TrainRequest req = m_bench.window().trainPanel()->request();
  const double panelPercent = m_bench.window().prunePanel()->percent();
  StoryRequest r;
  r.sparseEpochs = m_opt.sparseEpochs;
  r.fineTuneEpochs = m_opt.fineTuneEpochs;
  r.percent = panelPercent > 0 ? panelPercent : m_opt.percent;
  r.batch = req.batch;
  r.lr = req.lr;
  r.sr = req.sr;
  const StoryPlan p = makeStoryPlan(r);

  const ModelSpec model = m_bench.modelSpec();
  const DataSpec data = m_bench.dataSpec();
  StoryInvocation at;
  at.runDir = m_dir.toStdString();
  at.dataArgs = "--data " + data.spec;
  if (data.trainLimit > 0) at.dataArgs += " --train-limit " + std::to_string(data.trainLimit);
  if (data.valLimit > 0) at.dataArgs += " --val-limit " + std::to_string(data.valLimit);
  if (model.imageSize > 0) at.dataArgs += " --imgsz " + std::to_string(model.imageSize);
  // The panel's constraints, so the command plans what the workbench planned.
  const widgets::PrunePanel& panel = *m_bench.window().prunePanel();
  if (panel.roundTo() > 1) at.planOptions += " --round-to " + std::to_string(panel.roundTo());
  if (panel.minChannels() > 1) at.planOptions += " --min-channels " + std::to_string(panel.minChannels());
  if (panel.normalization() != "auto") at.planOptions += " --normalize " + panel.normalization().toStdString();
  m_manifest.commands = storyCommands(p, at);
  m_manifest.settings.clear();
  for (const auto& [name, value] : storySettings(p)) m_manifest.settings.emplace_back(name, numberText(value));
  m_manifest.settings.emplace_back("criterion", p.criterion);
  return p;
}

void StoryRun::start() {
  if (!prepare()) return;
  const StoryPlan p = plan();
  TrainSettings sparse = p.sparse;
  sparse.runDir = QDir(m_dir).filePath("sparse").toStdString();
  sparse.prunedNowPercent = m_bench.window().trainPanel()->request().prunedNowPercent;
  TrainSettings ft = p.fineTune;
  ft.runDir = QDir(m_dir).filePath("fine-tune").toStdString();
  const double percent = p.percent;
  const double epochs = std::max(1, sparse.epochs + ft.epochs);
  const double trainWeight = 0.8;

  // The story as a list: each step queues its workbench calls; the next one starts when the
  // worker is idle again (and, for steps with a shot, after the screenshot).
  const QDir dir(m_dir);
  m_steps = {
      {"original", 0.03, [=] { saveAndEvaluate("original", "0-original.plm"); }, {}},
      {"sparse", trainWeight * sparse.epochs / epochs, [=] { m_bench.startTraining(sparse); }, {}},
      {{}, 0, [=] { saveAndEvaluate("sparse", "1-sparse.plm"); }, "1-sparse-training"},
      {"prune", 0.03, [=] { m_bench.score("bn"); }, {}},
      {{}, 0, [=] {
         m_bench.window().prunePanel()->setPercent(percent);
         m_bench.setGlobalPercent(percent);
       }, "2-plan"},
      {{}, 0, [=] {
         m_bench.applyPlan();
         saveAndEvaluate("pruned", "2-pruned.plm");
       }, "3-pruned"},
      {"fine-tune", trainWeight * ft.epochs / epochs, [=] { m_bench.startTraining(ft); }, {}},
      {{}, 0, [=] { saveAndEvaluate("fine-tuned", "3-fine-tuned.plm"); }, "4-fine-tuned"},
      {"compare and export", 0.04, [=] {
         m_bench.compare();
         m_bench.exportModel("onnx", dir.filePath("pruned.onnx"), 17, /*foldBn=*/true);
         // A model opened from a yolov5/ultralytics .pt goes back to that stack as well.
         const auto& model = m_bench.model().skeleton;
         if (model && model->metadata().count(kPtFamilyKey))
           m_bench.exportModel("pt", dir.filePath("pruned.pt"), 17, false);
       }, "5-compare"},
  };
  m_next = 0;
  runNext();
}

void StoryRun::runNext() {
  if (m_failed) return;
  if (m_next == m_steps.size()) return writeReport();
  const Step& s = m_steps[m_next++];
  if (!s.stage.isEmpty()) stage(s.stage, s.weight);
  s.run();
  m_bench.whenIdle([this, shotName = s.shot] {
    if (m_failed) return;
    if (shotName.isEmpty()) runNext();
    else shot(shotName, [this] { runNext(); });
  });
}

// The last step: story.json, then the report, written when the worker has collected it.
void StoryRun::writeReport() {
  stage("report", 1.0 - m_doneWeight - m_stageWeight);
  writeManifest();
  m_bench.writeStoryReport(m_dir, [this](bool ok, const QString& path) {
    m_doneWeight = 1;
    m_stageWeight = 0;
    m_stageName = ok ? "done" : "report failed";
    updateStatus();
    if (m_tick) m_tick->stop();
    m_bench.log(QString("Story finished in %1; report: %2").arg(widgets::formatDuration(m_clock.elapsed() / 1000.0), path));
    if (m_metric.count("sparse") && m_metric.count("pruned"))
      m_bench.log(QString("The cut right after the sparse stage cost %1 points (%2 -> %3)")
                      .arg(100 * (m_metric.at("sparse") - m_metric.at("pruned")), 0, 'f', 1)
                      .arg(100 * m_metric.at("sparse"), 0, 'f', 1)
                      .arg(100 * m_metric.at("pruned"), 0, 'f', 1));
    shot("6-report", [=] { Q_EMIT finished(ok, path); });
  });
}

void StoryRun::writeManifest() {
  const ModelSpec model = m_bench.modelSpec();
  const DataSpec data = m_bench.dataSpec();
  StoryManifest& m = m_manifest;
  m.created = QDateTime::currentDateTime().toString(Qt::ISODate).toStdString();
  m.model = QFileInfo(QString::fromStdString(model.model)).fileName().toStdString();
  m.data = data.spec + (data.trainLimit > 0 ? " (" + std::to_string(data.trainLimit) + " training images)" : "");
  m.task = m_bench.isDetector() ? "detect" : "classify";
  m.metric = m.task == "detect" ? "mAP50-95" : "top-1";
  m.stages = storyStages();
  for (StoryManifestStage& s : m.stages) {
    const auto it = m_metric.find(QString::fromStdString(s.name));
    if (it != m_metric.end()) s.metric = it->second;
  }
  try {
    writeStoryManifest(m, QDir(m_dir).filePath("story.json").toStdString());
  } catch (const std::exception& e) {
    m_bench.log(QString("Story: %1").arg(e.what()));
  }
}

}  // namespace prunelab::gui
