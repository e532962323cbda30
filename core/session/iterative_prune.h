#pragma once
// Iterative pruning with fine-tuning between the cuts (Torch-Pruning's YOLOv8 recipe: many
// small cuts, each followed by training, instead of one large cut): `prune --steps N
// --fine-tune-epochs E`. Each step k = 1..N cuts the current model by the k-th share of
// the goal, on scores of the model as it is then (data criteria calibrate again), trains
// E epochs on the open data and saves runDir/step-k.plm. The schedule is runPruning's
// `steps` schedule (pruning/pruner.h), so N cuts end where one cut would:
//   --percent p / --ratios: each step removes 1 - (1 - p)^(1/N) of the current channels;
//   --target-macs/--target-params T: step k aims at ceil(C0 - k/N (C0 - T)), C0 the
//     original cost; a step whose model is already at or below its aim only trains.
// Modes that plan in one step (one layer, a sensitivity table, a latency target) are
// refused.
//
// Files in runDir: step-k.plm (the model after step k's training; its info holds the
// cumulative surgery log, the schedule and the step's metrics), step-k/ (step k's
// training run: last.plm, results.csv, ...; step-k/cut.plm is the model right after the
// cut, so an interrupted training resumes on exactly that structure).
// Resume: started again on the same runDir, the run continues after the highest
// step-k.plm (its schedule must match this one: else an error naming the file and what
// differs), and a step whose training was interrupted continues it from step-k/last.plm
// (the trainer's own resume).
//
// Threads: runs on the calling thread, which owns the Session; observers and callbacks
// are called on it. A step's TrainControl (handed to onTrainStart) may be written from
// any thread, e.g. cancelled from a signal handler: the run then stops after that step's
// current batch, leaving step-k/last.plm to resume from.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pruning/plan_log.h"
#include "pruning/pruner.h"
#include "session/calibration.h"
#include "session/task_factory.h"
#include "session/train_recipe.h"
#include "train/train_observer.h"

namespace prunelab {

class Session;

// One step as it happened (or as its step-k.plm recorded it, when resumed past it).
struct IterativeStepReport {
  int step = 0;  // 1-based
  int steps = 0;
  bool cut = true;           // false: the model was already at or below this step's aim
  bool fromCheckpoint = false;  // done by an earlier run; read back from step-k.plm
  int64_t aim = 0;           // target modes: this step's MACs/params aim; else 0
  int64_t channelsRemoved = 0;  // output channels of Conv/Linear layers this step's cut removed
  int64_t macs = 0, params = 0;  // after the cut (training keeps them)
  Metric afterCut, afterTraining;
  int epochs = 0;            // the epochs this step's training has completed (a resumed run included)
  double cutSeconds = 0, trainSeconds = 0;
  std::string checkpoint;    // runDir/step-k.plm
};

struct IterativePruneOptions {
  int steps = 1;  // N cuts; the request's own `steps` is not used (each cut is one step)
  // The training after each cut (epochs > 0), through Session::trainRequest over the task's
  // recipe; its runDir is replaced by runDir/step-k.
  TrainSettings training;
  TaskSettings task;                // validation and training of the open data's task
  CalibrationOptions calibration;   // data criteria and --reconstruct, loaded again at each step
  std::string runDir;               // required
  std::vector<TrainObserver*> observers;  // not owned; every step's training
  // Called with each step's live controls before its training starts.
  std::function<void(int step, const std::shared_ptr<TrainControl>&)> onTrainStart;
  // After each step's checkpoint; on a resume, first for each step done before (read back).
  std::function<void(const IterativeStepReport&)> onStep;
  std::function<void(const std::string&)> onMessage;       // "resumed at step 3 ..."
};

struct IterativePruneResult {
  std::vector<IterativeStepReport> steps;  // every step up to the last one done, resumed ones first
  int resumedAfter = 0;                     // the step-k.plm a resume continued from; 0: a fresh start
  std::vector<SurgeryLogEntry> log;         // every cut since the original model, in order
  int64_t startMacs = 0, startParams = 0;   // the original model's
  Metric original;                          // the original model on the validation split
  bool cancelled = false;                   // a step's training was cancelled: resume to finish
  std::string schedule;                     // the schedule's JSON, as step-k.plm records it
};

// Runs the schedule on the session's current model (the original) and its open data; the
// session's history ends at the last step's trained model. Throws prunelab::Error for a
// refused mode, missing data or runDir, a runDir whose step files belong to another
// schedule, and whatever runPruning and the trainer throw.
IterativePruneResult pruneIteratively(Session& session, const PruneRequest& request,
                                      const IterativePruneOptions& options);

}  // namespace prunelab
