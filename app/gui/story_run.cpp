#include "gui/story_run.h"

#include "models/yolo/yolo_checkpoint.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QSaveFile>
#include <QStatusBar>
#include <QTimer>
#include <algorithm>

#include "gui/workbench.h"
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

void StoryRun::start() {
  const ModelSpec model = m_bench.modelSpec();
  const DataSpec data = m_bench.dataSpec();
  if (!m_bench.hasData()) return fail("open a dataset first (the story trains)");
  m_dir = m_opt.runDir.isEmpty() ? m_bench.newRunDir("story") : m_opt.runDir;
  if (!QDir().mkpath(m_dir)) return fail("cannot create " + m_dir);
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

  const widgets::TrainRequest req = m_bench.window().trainPanel()->request();
  TrainSettings sparse;
  sparse.epochs = m_opt.sparseEpochs;
  sparse.batch = req.batch;
  sparse.lr = req.lr;
  sparse.sr = req.sr > 0 ? req.sr : 1e-3;
  sparse.prunedNowPercent = req.prunedNowPercent;
  sparse.runDir = QDir(m_dir).filePath("sparse").toStdString();
  const double panelPercent = m_bench.window().prunePanel()->percent();
  const double percent = panelPercent > 0 ? panelPercent : m_opt.percent;
  // Network slimming works when the channels the cut takes are already near zero: the sr
  // autopilot steers the share of |gamma| below 0.01 to the cut's percent by the end of the
  // sparse stage, instead of a fixed sr that may leave none there (and a cut that costs
  // most of the accuracy, which fine-tuning then has to repair).
  sparse.autopilot.target = std::min(0.95, percent);
  sparse.autopilot.byEpoch = std::max(1, sparse.epochs);
  // And only the channels the cut will take are pushed (with their betas): the rest keep
  // their scale, so the sparse stage does not shrink the whole network to get there.
  sparse.srTargeted = std::min(0.95, percent);
  sparse.srBeta = 1.0;
  TrainSettings ft = sparse;
  ft.epochs = m_opt.fineTuneEpochs;
  ft.sr = 0;
  ft.srTargeted = 0;
  ft.srBeta = 0;
  ft.autopilot = SrAutopilotOptions{};  // fine-tuning is dense: no sr, nothing steering it
  ft.lr = sparse.lr * 0.1;
  ft.prunedNowPercent = 0;
  ft.runDir = QDir(m_dir).filePath("fine-tune").toStdString();
  const double epochs = std::max(1, sparse.epochs + ft.epochs);
  const double trainWeight = 0.8;

  // story.json's fixed part: what was run, and the commands that redo it.
  QJsonObject settings{{"sparse_epochs", sparse.epochs}, {"sr", sparse.sr},          {"lr", sparse.lr},
                       {"sparsity_target", sparse.autopilot.target}, {"sr_targeted", sparse.srTargeted},
                       {"batch", static_cast<qint64>(sparse.batch)}, {"criterion", "bn"}, {"percent", percent},
                       {"fine_tune_epochs", ft.epochs},  {"fine_tune_lr", ft.lr}};
  QString dataArgs = "--data " + QString::fromStdString(data.spec);
  if (data.trainLimit > 0) dataArgs += QString(" --train-limit %1").arg(data.trainLimit);
  if (data.valLimit > 0) dataArgs += QString(" --val-limit %1").arg(data.valLimit);
  if (model.imageSize > 0) dataArgs += QString(" --imgsz %1").arg(model.imageSize);
  const QString d = m_dir;
  // The panel's constraints, so the command plans what the workbench planned.
  const widgets::PrunePanel& panel = *m_bench.window().prunePanel();
  QString planOptions;
  if (panel.roundTo() > 1) planOptions += QString(" --round-to %1").arg(panel.roundTo());
  if (panel.minChannels() > 1) planOptions += QString(" --min-channels %1").arg(panel.minChannels());
  if (panel.normalization() != "auto") planOptions += " --normalize " + panel.normalization();
  QJsonArray commands{
      QString("prunelab-cli train --model %1/0-original.plm %2 --epochs %3 --batch %4 --lr %5 --sr %6 "
              "--sparsity-target %7 --by-epoch %8 --sr-targeted %9 --sr-beta 1 --out %1/sparse")
          .arg(d, dataArgs).arg(sparse.epochs).arg(sparse.batch).arg(sparse.lr).arg(sparse.sr)
          .arg(sparse.autopilot.target).arg(sparse.autopilot.byEpoch).arg(sparse.srTargeted),
      QString("prunelab-cli prune --model %1/sparse/last.plm --criterion bn --percent %2%3 --out %1/2-pruned.plm")
          .arg(d)
          .arg(percent)
          .arg(planOptions),
      QString("prunelab-cli train --model %1/2-pruned.plm %2 --epochs %3 --batch %4 --lr %5 --out %1/fine-tune")
          .arg(d, dataArgs).arg(ft.epochs).arg(ft.batch).arg(ft.lr),
      QString("prunelab-cli export --model %1/fine-tune/last.plm --format onnx --fold-bn --out %1/pruned.onnx").arg(d),
      QString("prunelab-cli report %1 --out %1/report.pdf").arg(d)};
  m_stages = QJsonObject{{"settings", settings}, {"commands", commands}};

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
  QJsonObject o = m_stages;
  o["format"] = "prunelab-story";
  o["version"] = 1;
  o["created"] = QDateTime::currentDateTime().toString(Qt::ISODate);
  o["model"] = QFileInfo(QString::fromStdString(model.model)).fileName();
  o["data"] = QString::fromStdString(data.spec) +
              (data.trainLimit > 0 ? QString(" (%1 training images)").arg(data.trainLimit) : QString());
  const bool detect = m_bench.isDetector();
  o["task"] = detect ? "detect" : "classify";
  o["metric"] = detect ? "mAP50-95" : "top-1";
  const QStringList names = {"original", "sparse", "pruned", "fine-tuned"};
  const QStringList files = {"0-original.plm", "1-sparse.plm", "2-pruned.plm", "3-fine-tuned.plm"};
  QJsonArray stages;
  for (int i = 0; i < names.size(); ++i) {
    QJsonObject s{{"name", names[i]}, {"checkpoint", files[i]}};
    if (m_metric.count(names[i])) s["metric"] = m_metric.at(names[i]);
    if (names[i] == "sparse") s["run_dir"] = "sparse";
    if (names[i] == "fine-tuned") s["run_dir"] = "fine-tune";
    stages.append(s);
  }
  o["stages"] = stages;
  QSaveFile f(QDir(m_dir).filePath("story.json"));
  if (f.open(QIODevice::WriteOnly)) {
    f.write(QJsonDocument(o).toJson());
    f.commit();
  }
}

}  // namespace prunelab::gui
