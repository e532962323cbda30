#include "gui/workbench.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>

#include <algorithm>
#include <cmath>

#include "analysis/cost.h"
#include "detect/yolo_head.h"
#include "gui/workbench_post.h"
#include "models/yolo/yolo_yaml_widths.h"
#include "models/yolo/yolo_builder.h"
#include "models/zoo.h"
#include "pruning/importance.h"
#include "ops/op_table.h"
#include "report/report_writer.h"
#include "util/resources.h"
#include "widgets/channels_panel.h"
#include "widgets/compare_panel.h"
#include "widgets/curves_panel.h"
#include "widgets/detections_panel.h"
#include "widgets/export_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/layers_panel.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/network_graph_view.h"
#include "widgets/prune_panel.h"
#include "widgets/train_panel.h"

namespace prunelab::gui {

using widgets::LogPanel;

namespace {

using ScoresPtr = std::shared_ptr<const std::vector<std::vector<double>>>;

double nowSeconds() { return QDateTime::currentMSecsSinceEpoch() / 1000.0; }

}  // namespace

Workbench::Workbench() : m_window(std::make_unique<widgets::MainWindow>()), m_worker(new Worker) {
  qRegisterMetaType<ModelSnapshot>();
  qRegisterMetaType<CompareResult>();
  qRegisterMetaType<std::shared_ptr<const StoryReport>>("std::shared_ptr<const prunelab::StoryReport>");
  qRegisterMetaType<ScoresPtr>("std::shared_ptr<const std::vector<std::vector<double>>>");
  qRegisterMetaType<widgets::WhatIf>();
  qRegisterMetaType<widgets::EpochPoint>();
  qRegisterMetaType<QVector<widgets::StepPoint>>();
  qRegisterMetaType<widgets::DetectionsPreview>();
  qRegisterMetaType<widgets::SensitivityView>();
  m_worker->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  m_thread.setObjectName("prunelab-worker");
  m_thread.start();
  m_training = std::make_unique<TrainingController>(
      *m_window, *m_worker, [this](std::function<void()> call) { post(std::move(call)); },
      [this](const QString& m) { info(m); }, [this](const QString& m) { fail("Train", m); });
  connect(m_training.get(), &TrainingController::steps, this, &Workbench::trainSteps);
  connect(m_training.get(), &TrainingController::epoch, this, &Workbench::trainEpoch);
  connect(m_training.get(), &TrainingController::finished, this, &Workbench::trainingFinished);

  QStringList names;
  for (const ZooEntry& e : zooModels()) names << QString::fromStdString(e.name);
  for (const std::string& n : featuredYoloModels()) names << QString::fromStdString(n);
  m_window->setModelNames(names);
  QStringList criteria;
  for (const std::string& c : criterionMenu()) criteria << QString::fromStdString(c);
  m_window->prunePanel()->setCriteria(criteria);
  // The panel starts from the classification recipe (its saved settings then win).
  m_window->trainPanel()->setRequest(trainRequest(recipeSettings(TaskKind::Classify)));
  wire();
  restoreSettings();
}

// The last training and pruning settings survive restarts (window layout: MainWindow).
void Workbench::saveSettings() {
  QSettings s;
  const widgets::TrainRequest t = m_window->trainPanel()->request();
  s.setValue("train/epochs", t.epochs);
  s.setValue("train/batch", t.batch);
  s.setValue("train/lr", t.lr);
  s.setValue("train/sr", t.sr);
  s.setValue("train/pruned_now", t.prunedNowPercent);
  const widgets::PrunePanel* p = m_window->prunePanel();
  s.setValue("prune/criterion", p->criterion());
}

void Workbench::restoreSettings() {
  QSettings s;
  if (!s.contains("train/epochs")) return;
  widgets::TrainRequest t;
  t.epochs = s.value("train/epochs", t.epochs).toInt();
  t.batch = s.value("train/batch", t.batch).toInt();
  t.lr = s.value("train/lr", t.lr).toDouble();
  t.sr = s.value("train/sr", t.sr).toDouble();
  t.prunedNowPercent = s.value("train/pruned_now", t.prunedNowPercent).toDouble();
  m_window->trainPanel()->setRequest(t);
  m_window->prunePanel()->setCriterion(s.value("prune/criterion", "bn").toString());
}

Workbench::~Workbench() {
  saveSettings();
  m_training->stop();
  m_thread.quit();
  m_thread.wait();
}

void Workbench::wire() {
  wireWorker();
  wireCompare();
  wireMenus();
  wireTrainPanel();
  wirePrunePanel();
  wireSensitivity();
  wireLatencyTable();
}

// Worker -> GUI (queued: the worker lives on another thread).
void Workbench::wireWorker() {
  connect(m_worker, &Worker::modelChanged, this, &Workbench::onModelChanged);
  connect(m_worker, &Worker::scoresReady, this, &Workbench::onScores);
  connect(m_worker, &Worker::busy, this, &Workbench::onBusy);
  connect(m_worker, &Worker::progress, this, [this](double f, double eta) {
    if (m_training->running()) return;  // training reports through its steps
    if (f > 0 && eta < 0) eta = (nowSeconds() - m_taskStarted) * (1 - f) / f;  // linear ETA
    m_window->setProgress(f, eta);
  });
  connect(m_worker, &Worker::failed, this, &Workbench::fail);
  connect(m_worker, &Worker::info, this, &Workbench::info);
  connect(m_worker, &Worker::dataOpened, this, [this](const QString& d, bool detection) {
    m_hasData = true;
    m_window->setDataLabel("Data: " + d);
    info("Opened " + d);
    // Data of the other task: the Train panel starts from that task's recipe (the same
    // defaults `prunelab-cli train` uses); within one task the user's values stay.
    const TaskKind task = detection ? TaskKind::Detect : TaskKind::Classify;
    if (task != m_recipeTask) {
      m_recipeTask = task;
      widgets::TrainRequest t = m_window->trainPanel()->request();
      const TrainRecipe r = trainRecipe(task, "sgd", t.epochs);
      t.batch = static_cast<int>(r.batch);
      t.lr = r.lr;
      m_window->trainPanel()->setRequest(t);
      info(QString("Train panel: %1 recipe (batch %2, lr %3)").arg(detection ? "detection" : "classification").arg(r.batch).arg(r.lr));
    }
  });
  connect(m_worker, &Worker::evaluated, this, [this](const QString& metric, double v) {
    Q_EMIT evaluatedMetric(metric, v);
    info(QString("Evaluation: %1 = %2").arg(metric).arg(metric == "top1" ? v * 100 : v, 0, 'f', 3) +
         (metric == "top1" ? " %" : ""));
  });
  widgets::DetectionsPanel* detections = m_window->detectionsPanel();
  connect(m_worker, &Worker::detectionsReady, detections, &widgets::DetectionsPanel::setPreview);
  connect(m_worker, &Worker::detectionsCleared, detections, &widgets::DetectionsPanel::clear);
  connectExport();
  connect(m_worker, &Worker::checkpointSaved, this, [this](const QString& p) {
    info("Saved " + p + QString(" (%1 MB)").arg(QFileInfo(p).size() / 1e6, 0, 'f', 2));
    m_window->exportPanel()->setPath(p);
    m_window->raisePanel(m_window->exportPanel());
  });
}

void Workbench::wireCompare() {
  connect(m_worker, &Worker::compared, this, [this](const CompareResult& r) {
    widgets::CompareData d;
    const GraphCost cb = computeCost(*r.before), ca = computeCost(*r.after);
    d.before = {cb.params, cb.macs, cb.sizeBytes, r.latencyBeforeMs};
    d.after = {ca.params, ca.macs, ca.sizeBytes, r.latencyAfterMs};
    d.metricName = r.metricName == "top1" ? "top-1" : QString::fromStdString(r.metricName);
    d.metricBefore = r.metricBefore;
    d.metricAfter = r.metricAfter;
    for (const Node& n : r.before->nodes()) {
      if (!opSpec(n.op).isChannelSource) continue;
      const Node* a = r.after->findNode(n.name);
      if (!a) continue;
      d.layers.push_back({QString::fromStdString(n.name), static_cast<int>(r.before->value(n.outputs[0]).shape[1]),
                          static_cast<int>(r.after->value(a->outputs[0]).shape[1])});
    }
    m_window->comparePanel()->setData(d);
    m_window->raisePanel(m_window->comparePanel(), 420);  // room for the per-layer bars
    info(QString("Compared: latency %1 ms -> %2 ms").arg(r.latencyBeforeMs, 0, 'f', 2).arg(r.latencyAfterMs, 0, 'f', 2));
  });
}

// Menus and the window's requests -> controller.
void Workbench::wireMenus() {
  widgets::MainWindow& w = *m_window;
  connect(&w, &widgets::MainWindow::modelRequested, this, [this](const QString& m) {
    ModelSpec s;
    s.model = m.toStdString();
    s.numClasses = isZooModel(s.model) ? 10 : -1;
    openModel(s);
  });
  connect(&w, &widgets::MainWindow::dataRequested, this, [this](const QString& d) {
    DataSpec s = m_dataSpec;
    s.spec = d.toStdString();
    openData(s);
  });
  connect(&w, &widgets::MainWindow::projectSaveRequested, this, [this](const QString& p) { saveProject(p); });
  connect(&w, &widgets::MainWindow::projectOpenRequested, this, &Workbench::openProject);
  connect(&w, &widgets::MainWindow::evaluateRequested, this, &Workbench::evaluate);
  connect(&w, &widgets::MainWindow::compareRequested, this, &Workbench::compare);
  connect(&w, &widgets::MainWindow::demoRequested, this, &Workbench::openDemo);
  connect(&w, &widgets::MainWindow::detectorDemoRequested, this, &Workbench::openDemoDetector);
  connect(&w, &widgets::MainWindow::storyRequested, this, [this] {
    const int s = QSettings().value("story/sparse_epochs", 2).toInt(), f = QSettings().value("story/fine_tune_epochs", 2).toInt();
    runStory(s, f);
  });
  connect(w.layersPanel()->model(), &widgets::LayerTableModel::ratioEdited, this, &Workbench::setLayerRatio);
  connect(w.layersPanel(), &widgets::LayersPanel::layerSelected, this, &Workbench::selectLayer);
  connect(w.graphView(), &widgets::NetworkGraphView::layerClicked, this, &Workbench::selectLayer);
  connect(w.channelsPanel(), &widgets::ChannelsPanel::channelsToggled, this, &Workbench::toggleChannels);
  connect(w.exportPanel(), &widgets::ExportPanel::exportRequested, this, &Workbench::exportModel);
}

void Workbench::wireTrainPanel() {
  connect(m_window->trainPanel(), &widgets::TrainPanel::startRequested, this, [this](const widgets::TrainRequest& r) {
    TrainSettings s = trainSettings(r);
    s.runDir = newRunDir().toStdString();
    startTraining(s);
  });
}

void Workbench::wirePrunePanel() {
  widgets::PrunePanel* p = m_window->prunePanel();
  connect(p, &widgets::PrunePanel::criterionChosen, this, &Workbench::score);
  connect(p, &widgets::PrunePanel::percentChanged, this, &Workbench::setPlanAmount);
  connect(p, &widgets::PrunePanel::planByChanged, this, [this] { setPlanAmount(m_window->prunePanel()->percent()); });
  connect(p, &widgets::PrunePanel::constraintsChanged, this,
          [this](int roundTo, int minChannels, const QString& normalization, bool yamlWidths) {
            // Kept without a model too (a project sets them before its model opens).
            try {
              m_prune.setConstraints(PlanConstraints{minChannels, roundTo, parseNormalization(normalization.toStdString())},
                                     yamlWidths);
            } catch (const std::exception& e) {
              fail("Prune", e.what());
            }
            if (m_prune.hasGraph()) refresh();
          });
  connect(p, &widgets::PrunePanel::applyRequested, this, &Workbench::applyPlan);
  connect(p, &widgets::PrunePanel::resetRequested, this, [this] {
    if (!m_prune.hasGraph()) return;
    m_prune.clearPlan();
    m_window->prunePanel()->setPercent(0);
    refresh();
  });
  connect(p, &widgets::PrunePanel::undoRequested, this, &Workbench::undo);
  connect(p, &widgets::PrunePanel::redoRequested, this, &Workbench::redo);
}

// ---- worker calls -------------------------------------------------------------------

void Workbench::openModel(const ModelSpec& spec) {
  m_modelSpec = spec;
  post([w = m_worker, spec] { w->loadModel(spec); });
}

void Workbench::openData(const DataSpec& spec) {
  m_dataSpec = spec;
  post([w = m_worker, spec] { w->openData(spec); });
}

void Workbench::startTraining(const TrainSettings& settings) {
  if (!m_training->running()) m_runDir = QString::fromStdString(settings.runDir);
  m_training->start(settings, m_model.gammas);
}

void Workbench::score(const QString& criterion) {
  m_window->prunePanel()->setCriterion(criterion);
  post([w = m_worker, criterion] { w->computeImportance(criterion); });
}

void Workbench::applyPlan() {
  if (!m_prune.hasGraph() || m_prune.plan().empty()) return fail("Prune", "the plan removes no channels");
  const auto log = m_prune.planLog();
  const bool fold = m_window->prunePanel()->foldBeta();
  const bool refit = m_window->prunePanel()->reconstruct();
  const QString label = QString("pruned %1 channels (%2, %3 %)")
                            .arg(m_prune.plan().removedCount())
                            .arg(QString::fromStdString(m_prune.criterion()))
                            .arg(m_prune.globalPercent() * 100, 0, 'f', 1);
  post([w = m_worker, log, fold, refit, label] { w->applyPlan(log, fold, refit, label); });
}

void Workbench::undo() { post([w = m_worker] { w->undo(); }); }
void Workbench::redo() { post([w = m_worker] { w->redo(); }); }
void Workbench::evaluate() { post([w = m_worker] { w->evaluate(); }); }
void Workbench::compare() { post([w = m_worker] { w->compare(); }); }

// ---- worker results -----------------------------------------------------------------

void Workbench::onModelChanged(const ModelSnapshot& s) {
  updatePtFormats(*s.skeleton);
  // Training keeps the structure (and the user's percent); surgery and undo may not.
  const bool sameStructure = m_model.skeleton && m_model.skeleton->structureId() == s.skeleton->structureId();
  m_model = s;
  m_prune.setGraph(s.skeleton);  // the plan is rebuilt when the new scores arrive
  m_window->prunePanel()->setYamlWidthsAvailable(!yoloYamlLayers(*s.skeleton).empty());
  if (!sameStructure) m_window->prunePanel()->setPercent(0);
  m_costs = nodeCosts(*s.skeleton);
  m_network = networkView(m_prune, m_costs);
  widgets::MainWindow& w = *m_window;
  w.graphView()->setNetwork(m_network);
  w.layersPanel()->model()->setRows(layerRows(m_prune, m_costs));
  if (!sameStructure) {  // training adds its own snapshots; a new structure starts a new history
    widgets::GammaFrame f = gammaFrame(s.gammas);
    // A cut or undo within one model's history happens where training stopped, not at
    // epoch 0; a newly opened model (a history of one) starts the axis again.
    if (s.historySize > 1) f.epoch = w.gammaPanel()->lastEpoch();
    f.note = QString::fromStdString(s.label);
    w.gammaPanel()->clear();
    w.gammaPanel()->addFrame(f);
  }
  w.prunePanel()->setUndoRedo(s.historyIndex > 0, s.historyIndex + 1 < s.historySize);
  w.setCurrentModelName(QString::fromStdString(m_modelSpec.model));
  w.setModelLabel(QString("%1 - step %2/%3: %4")
                      .arg(QString::fromStdString(m_modelSpec.model))
                      .arg(s.historyIndex + 1)
                      .arg(s.historySize)
                      .arg(QString::fromStdString(s.label)));
  if (!m_pendingPlan.empty()) {
    try {
      m_prune.restore(m_pendingPlan);
    } catch (const std::exception& ex) {
      fail("Open project", ex.what());
    }
    m_pendingPlan.clear();
  }

  // Scores belong to one structure: re-score the new model with the chosen criterion.
  const QString criterion = w.prunePanel()->criterion();
  if (!m_model.gammas.layers.empty() || criterion != "bn") score(criterion);
  else score("l2");
  if (m_selected.isEmpty() || m_prune.groupOfLayer(m_selected.toStdString()) < 0) {
    const auto rows = w.layersPanel()->model()->rows();
    for (const auto& r : rows)
      if (r.prunable) {
        m_selected = r.name;
        break;
      }
  }
  refresh();
  selectLayer(m_selected);
  Q_EMIT modelChanged();
}

void Workbench::onScores(const QString& criterion, const ScoresPtr& scores) {
  try {
    const double percent = m_window->prunePanel()->percent();
    const bool keepManual = percent <= 0;  // a hand-made plan survives re-scoring
    const std::vector<SurgeryLogEntry> manual = m_prune.planLog();
    m_prune.setScores(*scores, criterion.toStdString());
    if (percent > 0) planAmount(percent);
    if (keepManual && !manual.empty()) m_prune.restore(manual);
    m_window->layersPanel()->model()->setRows(layerRows(m_prune, m_costs));
    refresh();
    if (m_pendingPercent >= 0) {  // a project's percent, shown once its own plan is back
      m_window->prunePanel()->showPercent(m_pendingPercent);
      m_pendingPercent = -1;
    }
    info("Scored channels by " + criterion);
  } catch (const std::exception& e) {
    fail("Importance", e.what());
  }
}

void Workbench::onBusy(const QString& task) {
  widgets::MainWindow& w = *m_window;
  w.setBusy(task);
  w.prunePanel()->setBusy(!task.isEmpty());
  m_taskStarted = nowSeconds();
  if (!task.isEmpty()) return;
  if (m_pendingCalls > 0) --m_pendingCalls;
  if (m_pendingCalls == 0) {
    auto queue = std::move(m_idleQueue);
    m_idleQueue.clear();
    for (auto& f : queue) f();
    if (m_pendingCalls == 0) Q_EMIT becameIdle();
  }
}

void Workbench::whenIdle(std::function<void()> then) {
  if (m_pendingCalls == 0) return then();
  m_idleQueue.push_back(std::move(then));
}

void Workbench::fail(const QString& task, const QString& message) {
  m_window->logPanel()->append(LogPanel::Level::Error, task + ": " + message);
  m_window->statusBar()->showMessage(task + " failed: " + message, 10000);
  Q_EMIT errorShown(message);
}

void Workbench::info(const QString& message) { m_window->logPanel()->append(LogPanel::Level::Info, message); }

QString Workbench::newRunDir(const QString& prefix) const {
  // ./runs like the CLI, unless the working directory is read-only (a desktop launch
  // may start in /): then the user's data folder.
  const QString cwd = QFileInfo(QDir::currentPath()).isWritable()
                          ? QDir::current().filePath("runs")
                          : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/runs";
  const QString base = QSettings().value("runs/dir", cwd).toString();
  return QDir(base).filePath(prefix + "-" + QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss"));
}

bool Workbench::isDetector() const { return m_model.skeleton && detect::isDetector(*m_model.skeleton); }

void Workbench::writeStoryReport(const QString& runDir, std::function<void(bool, const QString&)> done) {
  auto conn = std::make_shared<QMetaObject::Connection>();
  *conn = connect(m_worker, &Worker::storyCollected, this, [=](const std::shared_ptr<const StoryReport>& r) {
    disconnect(*conn);
    const QString html = QDir(runDir).filePath("report.html"), pdf = QDir(runDir).filePath("report.pdf");
    try {
      report::writeReport(*r, {html, pdf});
    } catch (const std::exception& e) {
      fail("Report", e.what());
      return done(false, {});
    }
    info("Report written: " + html + " and " + pdf);
    done(true, pdf);
  });
  post([w = m_worker, runDir] { w->collectStory(runDir); });
}

}  // namespace prunelab::gui
