#pragma once
// Session: one user's work on one model, as both front ends drive it. The CLI makes a
// Session per command; the workbench's worker thread owns one for the window's life.
// It holds the model history (load, train, prune push versions; undo/redo move a
// cursor), the open dataset, and makes every decision the front ends must agree on:
// the training recipe per task, the task and its validation, calibration batches.
//
// Threads: a Session is used by one thread at a time (the GUI's worker thread, or the
// CLI's main thread). Live training controls go through the TrainControl passed to
// train(), which any thread may write.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/model_loader.h"
#include "pruning/pruner.h"
#include "session/calibration.h"
#include "session/dataset_spec.h"
#include "session/evaluation.h"
#include "session/latency_source.h"
#include "session/model_history.h"
#include "session/task_factory.h"
#include "session/train_recipe.h"
#include "train/trainer.h"

namespace prunelab {

struct SessionTrainRequest {
  TrainerOptions options;                  // start from Session::trainerOptions()
  std::shared_ptr<TrainControl> control;   // the run's live sr/lr/pause/cancel; required
  std::vector<TrainObserver*> observers;   // not owned; called on the training thread
  TaskSettings task;
  // > 0: after each validated epoch, the score of the model if cut now by a bn plan of this
  // fraction (session/pruned_now.h) joins the epoch's taskMetrics as "pruned_now/<metric>".
  double prunedNowPercent = 0.0;
  // Distil from the history's baseline (the version before the first cut; the current
  // model itself when nothing was cut) with options.distill: sets options.teacher.
  bool distillFromBaseline = false;
  std::string label;                       // history label; empty = "trained N epochs (sr ...)"
  // Called before the run with the model copy being trained and its task (e.g. to attach
  // an end-of-epoch probe that validates a pruned copy).
  std::function<void(const std::shared_ptr<Graph>&, const std::shared_ptr<TrainTask>&)> onStart;
};

class Session {
 public:
  ModelHistory& history() { return m_history; }
  Graph& model() { return m_history.current(); }

  // Loads a model, infers shapes at its input (or at imageSize x imageSize for a
  // detector's chosen size, recorded in its metadata) and starts a new history.
  void loadModel(const ModelRequest& request, int64_t imageSize = 0);
  // The same, sized for the open data: classes and channels come from the data unless the
  // request sets them, and a model with other classes is an error. With `resumeFrom` (a
  // run's last.plm) the structure comes from that file. With `transfer` (training), a
  // yolov5/ultralytics .pt or --weights made for other classes is rebuilt for the data's
  // and the matching tensors copied (lastLoadReport() says which); without, it is an error.
  void loadModelForData(ModelRequest request, const std::string& resumeFrom = "", bool transfer = false);
  // The teacher of a distilled run (`train --teacher FILE`, train/distillation.h): a
  // trained model file (.plm, .onnx, .pt) loaded as it is (its own classes: one made for
  // others is refused by the trainer, not transferred) and shaped at the current model's
  // input. Errors name --teacher and the file.
  std::shared_ptr<const Graph> loadTeacher(const std::string& path) const;
  // What the last load did besides building (tensors transferred to other classes...).
  const ModelLoadReport& lastLoadReport() const { return m_lastLoad; }

  // Opens a dataset. With `fitModelClasses` (the workbench: data opened for the model to
  // train on), a detector opened from a yolov5/ultralytics .pt made for other classes and
  // not yet changed (one version in the history) is rebuilt for the data's classes with
  // the matching tensors copied, as `train` does: returns true then, and lastLoadReport()
  // says what was transferred. Without (calibration images), the model stays as it is.
  bool openData(const DataSpec& spec, bool fitModelClasses = false);
  bool hasData() const { return m_data.has_value(); }
  const OpenedData& data() const;  // throws when none is open

  // The recipe for the open data's task (else the model's) with these epochs.
  TrainerOptions trainerOptions(int epochs, const std::string& optimizer = "sgd") const;
  std::shared_ptr<TrainTask> makeTask(const Graph& graph, int64_t trainBatch, const TaskSettings& settings = {}) const;
  // The current model on the open data's validation split (session/evaluation.h): what
  // `eval` prints. Throws without data.
  EvalReport evaluate(const EvalRequest& request = {});
  // `graph` evaluated the same way; its headline metric (top1 or mAP50-95).
  Metric validate(const std::shared_ptr<Graph>& graph, const TaskSettings& settings = {},
                  const std::string& device = "cpu") const;

  // The per-layer latency table of the current model (session/latency_source.h); its name
  // defaults to the history's current label.
  LatencyTable latencyTable(LatencyTableRequest request) const;

  // Calibration for io.criterion from the open data (random inputs without data).
  std::string calibrate(ImportanceOptions& io, const CalibrationOptions& options, const Shape& input = {}) const;

  // The request for a run with `settings` over the task's recipe, its live values in
  // `control` (created by the caller from settings.sr and settings.lr).
  SessionTrainRequest trainRequest(const TrainSettings& settings, std::shared_ptr<TrainControl> control) const;
  // Channel importance of the current model's groups (pruning/importance.h) for
  // io.criterion, calibrated on the open data first when the criterion needs it.
  struct Scores {
    std::vector<std::vector<double>> groups;  // per DependencyGraph group, per channel
    std::string calibratedOn;                 // what a data criterion calibrated on; "" otherwise
  };
  Scores importance(ImportanceOptions io) const;
  // Trains a copy of the current model; pushes it when at least one epoch completed.
  TrainResult train(const SessionTrainRequest& request);
  // Prunes the current model and pushes the result.
  PruneOutcome prune(const PruneRequest& request, const std::string& label);
  // The sensitivity sweep (pruning/sensitivity.h) of the current model on the open data's
  // validation split: a seeded subset of `valImages` of it for classification (0: all);
  // detection data is evaluated on the split as opened. Calibrates first when the
  // criterion needs it. The validation batches are built once and kept for every cut;
  // options.chance becomes 1/classes for classification. Throws prunelab::Error without data.
  SensitivityTable sweepSensitivity(SensitivityOptions options, int64_t valImages, const TaskSettings& settings = {},
                                    const SensitivityProgress& progress = {}) const;

  // Replays a surgery log (recorded on a copy of the current model) and pushes the result.
  // With `refit`, the consumers are refitted by least squares on calibration batches of the
  // open data (random inputs without data) before the push (pruning/reconstruction.h).
  struct Refit {
    CalibrationOptions calibration;
    ReconstructOptions options;  // its calibration batches are filled here
  };
  struct Applied {
    SurgeryResult surgery;
    ReconstructReport reconstruction;  // empty without refit
    std::string calibratedOn;          // what the refit calibrated on, for logs
  };
  Applied applyPlan(const std::vector<SurgeryLogEntry>& log, const SurgeryOptions& options, const std::string& label,
                    const Refit* refit = nullptr);

 private:
  // Shapes `g` at `imgsz` x `imgsz` (0: its own input size), records the size in its
  // metadata, and makes it the start of a new history.
  void adopt(Graph g, int64_t imgsz, const std::string& asked, ModelLoadReport report);

  // Rebuilds the current model for the open data's classes when openData() should.
  bool adaptToDataClasses();

  ModelHistory m_history;
  std::optional<OpenedData> m_data;
  ModelLoadReport m_lastLoad;
  ModelRequest m_loaded;         // what loadModel() last loaded
  int64_t m_loadedImageSize = 0;
};

// "trained 3 epochs (sr 0.005)", or "(sr 0.005 -> 0.001, moved live)", "(sr 0, distilled)".
std::string trainLabel(const TrainResult& r);

}  // namespace prunelab
