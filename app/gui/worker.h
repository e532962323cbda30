#pragma once
// Worker: the one QObject that touches tensors, a thin thread around a core Session
// (session/session.h: model history, open data, recipes, calibration, train/prune). It
// lives on its own QThread; every slot is invoked queued from the GUI thread and runs
// there to completion (training blocks it until the run ends - cancel, pause, sr and lr
// go through the run's TrainControl instead, which the GUI creates and keeps).
// Results leave as signals carrying plain values or immutable skeletons
// (Graph::skeleton(): shapes without data), never live tensors.
// Compare sets the current model against the history's baseline (the last version before
// the first cut). Every slot catches errors and reports them with failed(): the GUI stays
// usable.

#include <QObject>
#include <QString>
#include <QVector>

class QTemporaryDir;

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "session/dataset_spec.h"
#include "session/session.h"
#include "gui/train_bridge.h"
#include "pruning/latency_table.h"
#include "pruning/surgery.h"
#include "report/story_report.h"
#include "train/bn_stats.h"
#include "train/distillation.h"
#include "train/sr_autopilot.h"
#include "train/train_observer.h"
#include "widgets/detections_panel.h"
#include "widgets/sensitivity_panel.h"

namespace prunelab {
class DistGroup;
}

namespace prunelab::gui {

class LocalWorkers;

struct ModelSpec {
  std::string model;        // zoo name, YOLO name/yaml, .plm, ...
  int64_t numClasses = -1;  // zoo models
  std::string weights;      // optional
  int64_t imageSize = 0;    // > 0: square input size to use (e.g. 160 for fashion-det detectors)
};

// What the Train panel asks for (session/train_recipe.h). sr and lr are the starting values
// of the run's TrainControl, which Workbench::startTraining creates from them; the worker
// reads the control, never these two.
using prunelab::TrainSettings;

struct ModelSnapshot {
  std::shared_ptr<const Graph> skeleton;  // no tensor data
  std::string label;                      // what produced this version ("loaded resnet20", "pruned 40%")
  std::string task;                       // "classify" | "detect"
  int historyIndex = 0;
  int historySize = 1;
  GammaSnapshot gammas;     // |gamma| of every BN now
  double latencyMs = -1;    // measured batch-1 latency on this machine
};

struct CompareResult {
  std::shared_ptr<const Graph> before, after;  // skeletons
  double latencyBeforeMs = -1, latencyAfterMs = -1;
  std::string metricName;                      // "top1" | "mAP50-95" (empty: no data)
  double metricBefore = -1, metricAfter = -1;
};

class Worker : public QObject {
  Q_OBJECT
 public:
  // Construct after configureThreads(): the worker thread adopts that thread count.
  explicit Worker(QObject* parent = nullptr);
  ~Worker() override;
  TrainBridge& bridge() { return m_bridge; }

 public Q_SLOTS:
  void loadModel(const prunelab::gui::ModelSpec& spec);
  void openData(const prunelab::DataSpec& spec);
  void train(const prunelab::TrainSettings& settings, const std::shared_ptr<prunelab::TrainControl>& control);
  void computeImportance(const QString& criterion);
  // `reconstruct`: least-squares refit after the cut (pruning/reconstruction.h).
  void applyPlan(const std::vector<prunelab::SurgeryLogEntry>& plan, bool foldBeta, bool reconstruct,
                 const QString& label);
  void undo();
  void redo();
  void evaluate();
  void compare();
  void saveCheckpoint(const QString& path);
  // Any of session/model_export.h's formats ("native", "onnx" with opset and foldBn,
  // "torchscript", "yolov5", "ultralytics", "torch", "pt"): written and checked read back
  // by core's exportModel, as prunelab-cli export does.
  void exportModel(const QString& format, const QString& path, int opset, bool foldBn);
  // Reads a story run directory (report/story_report.h: checkpoints, runs, latency).
  void collectStory(const QString& runDir);
  // Writes the built-in fashion-det images into `dir` unless its data.yaml exists.
  void prepareFashionDet(const QString& dir, int trainImages, int valImages);
  // The sensitivity sweep of the current model on `valImages` validation images (0: all),
  // cuts chosen by `criterion`; `cancel` set from the GUI thread stops it after the cut
  // in progress (the finished rows are still shown).
  void sweepSensitivity(const QVector<double>& ratios, int valImages, const QString& criterion,
                        const std::shared_ptr<std::atomic<bool>>& cancel);
  // The per-layer latency table of the current model at its default input, batch 1
  // (pruning/latency_table.h): what the what-if's latency is predicted from.
  void latencyTable();

 Q_SIGNALS:
  void modelChanged(const prunelab::gui::ModelSnapshot& snapshot);
  void scoresReady(const QString& criterion, const std::shared_ptr<const std::vector<std::vector<double>>>& scores);
  void dataOpened(const QString& description, bool detection);
  void evaluated(const QString& metricName, double value);
  void compared(const prunelab::gui::CompareResult& result);
  void trainDataPending();  // the bridge has new values: call bridge().take() on the GUI thread
  void busy(const QString& task);  // empty: idle
  void progress(double fraction, double etaSeconds);  // of the running task (<0: unknown)
  void info(const QString& message);
  void failed(const QString& task, const QString& message);
  void trainingFinished(bool ok, const QString& summary);
  void checkpointSaved(const QString& path);
  // An export passed its read-back check: the resolved format and the largest relative
  // difference of the file's outputs (or tensors) from the model's.
  void exported(const QString& format, const QString& path, double maxRelDiff);
  void storyCollected(const std::shared_ptr<const prunelab::StoryReport>& report);
  // The Detections view: the baseline's and the current model's boxes on a few validation
  // images (after each model change and each training epoch), or why there are none.
  void detectionsReady(const prunelab::widgets::DetectionsPreview& preview);
  void detectionsCleared(const QString& why);
  void sensitivityProgress(int done, int total, double etaSeconds);
  void sensitivityReady(const prunelab::widgets::SensitivityView& table);
  void latencyTableReady(const std::shared_ptr<const prunelab::LatencyTable>& table);

 private:
  struct Impl;
  template <class F>
  void guarded(const QString& task, F&& body);
  void publish(const std::string& label);  // modelChanged, then the Detections view
  SessionTrainRequest trainRequest(const TrainSettings& s, const std::shared_ptr<TrainControl>& control);
  void previewWhileTraining(SessionTrainRequest& request);
  void refreshDetections();
  // Starts ranks 1..processes-1 (their files in `scratch`) and joins them as rank 0.
  std::shared_ptr<DistGroup> startDataParallel(const TrainSettings& s, const std::string& device,
                                               const QTemporaryDir& scratch, std::unique_ptr<LocalWorkers>& workers);

  std::unique_ptr<Impl> m;
  TrainBridge m_bridge;
  int m_threads;  // LibTorch intra-op threads, as configured on the constructing thread
};

}  // namespace prunelab::gui

Q_DECLARE_METATYPE(prunelab::gui::ModelSpec)
Q_DECLARE_METATYPE(prunelab::DataSpec)
Q_DECLARE_METATYPE(prunelab::TrainSettings)
Q_DECLARE_METATYPE(prunelab::gui::ModelSnapshot)
Q_DECLARE_METATYPE(prunelab::gui::CompareResult)
