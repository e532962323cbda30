#pragma once
// Workbench: the controller of the GUI. It owns the main window, the worker thread (the
// only thread that touches tensors), the live TrainControl and the GUI-side PruneModel,
// and wires panel signals to them:
//   - training runs are the TrainingController's (gui/training_controller.h): the live
//     TrainControl, and the TrainBridge drained into the curves and the γ panel;
//   - every pruning edit updates the PruneModel and refreshes the what-if, the layer
//     table, the graph colours and the channel bars at once, without the worker;
//   - Apply / Undo / Redo / Score / Evaluate / Compare / Export are queued to the worker.
// Thread: GUI thread. Worker results arrive by queued signals.

#include <QObject>
#include <QStringList>
#include <QThread>
#include <QTimer>
#include <QVector>

#include <functional>
#include <atomic>
#include <memory>

#include "gui/prune_model.h"
#include "gui/training_controller.h"
#include "gui/view_convert.h"
#include "gui/worker.h"
#include "session/train_recipe.h"
#include "train/train_observer.h"
#include "widgets/view_model.h"

namespace prunelab::widgets {
class MainWindow;
}

namespace prunelab::gui {

class Workbench : public QObject {
  Q_OBJECT
 public:
  Workbench();
  ~Workbench() override;

  widgets::MainWindow& window() { return *m_window; }
  PruneModel& pruneModel() { return m_prune; }
  // The controls of the current (or last) training run.
  TrainControl& control() { return m_training->control(); }
  const ModelSnapshot& model() const { return m_model; }
  const widgets::WhatIf& whatIf() const { return m_whatIf; }
  QString selectedLayer() const { return m_selected; }
  bool idle() const { return m_pendingCalls == 0; }
  // The last step the running trainer finished (read across threads; -1 before any).
  int64_t lastTrainerStep() const { return m_worker->bridge().lastStep(); }

  // Queued to the worker (return at once).
  void openModel(const ModelSpec& spec);
  void openData(const DataSpec& spec);
  void startTraining(const TrainSettings& settings);
  void score(const QString& criterion);
  void applyPlan();
  void undo();
  void redo();
  void evaluate();
  void compare();
  // format: native, onnx (opset 13-17, optional BN folding) or torchscript.
  void exportModel(const QString& format, const QString& path, int opset = 17, bool foldBn = false);
  // The Sensitivity dock's sweep (cuts by the Prune panel's criterion); cancel stops it.
  void sweepSensitivity(const QVector<double>& ratios, int valImages);
  void cancelSensitivity();

  // GUI-side edits (synchronous).
  void setGlobalPercent(double percent);  // a global percent whatever the panel's "Plan by"
  void setPlanAmount(double fraction);    // the panel's amount, read by its "Plan by"
  void setLayerRatio(const QString& layer, double ratio);
  void toggleChannels(const QString& layer, const QVector<int>& channels, bool prune);
  void selectLayer(const QString& layer);

  // The demo project: the ResNet-20 PruneLab trained on Fashion-MNIST (resources/demo,
  // random weights if missing) on 6000 of its images, bn scores, 40 % planned.
  void openDemo();
  // The detector demo: the small YOLOv8 trained on fashion-det (written on first use).
  void openDemoDetector();
  // The whole loop unattended (StoryRun): sparse-train, prune, fine-tune, compare,
  // export, report. `shots`: if not empty, a screenshot after each stage (N-stage.png).
  void runStory(int sparseEpochs, int fineTuneEpochs, const QString& shotsDir = {});
  QString lastStoryDir() const { return m_storyDir; }
  // Collects `runDir` on the worker, then writes report.html and report.pdf there.
  void writeStoryReport(const QString& runDir, std::function<void(bool ok, const QString& pdfPath)> done);

  // State the story reads.
  ModelSpec modelSpec() const { return m_modelSpec; }
  DataSpec dataSpec() const { return m_dataSpec; }
  bool hasData() const { return m_hasData; }
  bool isDetector() const;
  QString newRunDir(const QString& prefix = "gui") const;
  void log(const QString& message) { info(message); }
  // Runs `then` once every queued worker call has finished.
  void whenIdle(std::function<void()> then);

  bool saveProject(const QString& path);
  void openProject(const QString& path);

 Q_SIGNALS:
  void modelChanged();
  void whatIfUpdated(const prunelab::widgets::WhatIf& whatIf);
  void trainSteps(const QVector<prunelab::widgets::StepPoint>& steps);
  void trainEpoch(const prunelab::widgets::EpochPoint& epoch);
  void trainingFinished(bool ok, const QString& summary);  // summary: what ran, with the sr it used
  void errorShown(const QString& message);
  void becameIdle();
  void storyFinished();  // runStory() reached its end (or stopped on an error)
  void evaluatedMetric(const QString& metric, double value);  // "top1" (0..1) or "mAP50-95"

 private:
  template <class F>
  void post(F&& call);  // queue a call on the worker thread
  void wire();
  void wireWorker();      // worker results -> panels
  void wireCompare();     // the Compare panel from a worker comparison
  void wireMenus();       // menus, the layer table, graph clicks, channel toggles, export
  void wireTrainPanel();  // Start (the live controls are the TrainingController's)
  void wirePrunePanel();  // criterion, amount, constraints, Apply / Reset / Undo / Redo
  void wireSensitivity();  // workbench_sensitivity.cpp
  void wireLatencyTable();  // workbench_latency.cpp
  // The what-if's after-latency: from the latency table when one was measured on this
  // model, else the measured latency scaled by MACs (the table's absence is said).
  void setWhatIfLatency(const CostEstimate& before, const CostEstimate& after);
  void onModelChanged(const ModelSnapshot& s);
  void updatePtFormats(const Graph& model);
  void connectExport();  // workbench_export.cpp
  void onScores(const QString& criterion, const std::shared_ptr<const std::vector<std::vector<double>>>& scores);
  void onBusy(const QString& task);
  void refresh();  // plan -> what-if, table, graph colours, channel bars
  void planAmount(double fraction);  // setPlanAmount's planning; throws prunelab::Error
  void fail(const QString& task, const QString& message);
  void info(const QString& message);
  void saveSettings();
  void restoreSettings();

  std::unique_ptr<widgets::MainWindow> m_window;
  std::shared_ptr<std::atomic<bool>> m_sensitivityCancel;
  std::shared_ptr<const LatencyTable> m_latencyTable;  // of the model it was measured on (checked per use)  // the running sweep's
  QThread m_thread;
  Worker* m_worker;  // lives on m_thread; deleted when it finishes
  std::unique_ptr<TrainingController> m_training;  // after m_worker: it holds a reference
  PruneModel m_prune;
  NodeCosts m_costs;
  widgets::NetworkView m_network;
  ModelSnapshot m_model;
  widgets::WhatIf m_whatIf;
  QString m_selected;
  int m_pendingCalls = 0;
  double m_taskStarted = 0;   // the running worker task's start
  std::vector<std::function<void()>> m_idleQueue;
  std::vector<SurgeryLogEntry> m_pendingPlan;  // restored by openProject once the model is back
  double m_pendingPercent = -1;  // a project's percent, shown once its model is open
  ModelSpec m_modelSpec;
  DataSpec m_dataSpec;
  QString m_runDir;
  QString m_storyDir;
  bool m_hasData = false;
  TaskKind m_recipeTask = TaskKind::Classify;  // whose recipe the Train panel's batch and lr came from
};

}  // namespace prunelab::gui
