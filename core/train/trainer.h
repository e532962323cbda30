#pragma once
// The trainer: SGD/AdamW, schedules with warm-up, label smoothing,
// BN-L1 sparse training with a live sr, freezing and per-group learning rates,
// an sr autopilot (train/sr_autopilot.h), crash-safe checkpoints and exact resume.
//
// Threads: run() blocks and must be called on the thread that owns the Graph (the
// worker); observers are called on that thread. TrainControl may be written from any
// thread; each step reads it once.
// Data parallelism (TrainerOptions::dist): every rank runs this same loop on its shard of
// each epoch; see the option for what is shared and who writes.
// Files in runDir: last.plm (every epoch), best.plm (best val top-1), results.csv and
// log.jsonl (one row per epoch, rewritten atomically), options.json; with the autopilot,
// sr_autopilot.csv (one row per controller update: the sr curve it took; see SrTrace).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "graph/graph.h"
#include "train/lr_schedule.h"
#include "train/sparsity.h"
#include "train/sr_autopilot.h"
#include "train/train_observer.h"
#include "train/distillation.h"
#include "train/train_task.h"

namespace prunelab {

class DistGroup;

struct TrainerOptions {
  int epochs = 10;
  int64_t batchSize = 128;
  std::string optimizer = "sgd";  // sgd | adamw
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weightDecay = 5e-4;
  ScheduleOptions schedule;
  double labelSmoothing = 0.0;
  SparsityOptions sparsity;
  // Steers TrainControl::sr toward a gamma-sparsity target (off unless target > 0); it
  // writes sr with a compare-and-swap, so any other write (the slider) disengages it.
  SrAutopilotOptions autopilot;
  std::vector<std::string> freeze;     // scope patterns whose parameters are frozen
  std::vector<std::string> trainOnly;  // if set, every other parameter is frozen
  std::vector<std::pair<std::string, double>> lrMultipliers;  // scope pattern -> lr x
  int gammaEvery = 50;                 // BN-gamma snapshot period in steps (0 = off)
  int validateEvery = 1;               // validate every N epochs (and after the last)
  std::string runDir;                  // empty: no files written
  bool resume = false;                 // continue runDir/last.plm if present
  std::string device = "cpu";
  uint64_t seed = 0;
  int workers = 2;
  bool augment = true;  // false: training batches skip the random steps (as validation's)
  TransformOptions trainTransform;
  TransformOptions evalTransform;
  // Distillation (train/distillation.h): with a teacher, every step also runs it on the
  // same batch (a private clone, eval mode, no gradients, on `device`) and the task mixes
  // its outputs in by `distill`. Its outputs must have the student's shapes (checked on
  // the first batch: an error naming teacherName). Read-only here: the caller may keep
  // using the graph (e.g. the history's baseline version).
  std::shared_ptr<const Graph> teacher;
  std::string teacherName = "--teacher";  // what errors and options.json call it
  DistillOptions distill;
  // Data-parallel training, one rank of `dist` per process (null: one process). Rank 0's
  // weights, buffers, optimizer state and progress (a resume) are broadcast at the start;
  // each rank reads its DistributedSampler shard of every epoch (the batch size is per
  // rank); gradients are averaged across ranks in buckets during backward, and the BN-L1
  // subgradient is added after that, identically everywhere; rank 0's live lr, sr and
  // cancel reach every rank at each step; the loss, train metrics and images/s are reduced
  // across ranks and BN running statistics broadcast from rank 0 at each epoch's end.
  // Rank 0 alone validates, calls onEpoch with validation, and writes runDir (atomically).
  std::shared_ptr<DistGroup> dist;
  bool syncBatchNorm = false;     // with dist: BN statistics of the global batch (SyncBN)
  bool overlapGradReduce = true;  // with dist: reduce buckets during backward (false: after it)
  // BN layers keep their running statistics during training (gamma and beta still train):
  // as module.eval() on BN in PyTorch; makes N ranks x batch B equal one process x N*B.
  bool frozenBatchNorm = false;
  // Called on the training thread after each validated epoch, once its logs and checkpoints
  // are written and before the observers see it, with the model being trained: may append
  // to stats.taskMetrics what only they show (e.g. the score of the model if pruned now,
  // session/pruned_now.h). An exception becomes an observer message, never a failed run.
  std::function<void(const std::shared_ptr<Graph>& graph, EpochStats& stats)> epochProbe;
};

struct TrainResult {
  EpochStats last;        // the last completed epoch
  double bestTop1 = 0.0;     // classification: the best val top-1
  double bestFitness = 0.0;  // the best EpochStats::fitness
  int epochsCompleted = 0;
  bool cancelled = false;
  // The base sr (TrainControl::sr, before decay) at the first and the last step, and
  // whether it was moved during the run: what a history entry must say about the run.
  double srStart = 0.0, srEnd = 0.0;
  bool srMovedLive = false;
  bool distilled = false;  // a teacher took part
  double seconds = 0.0;   // this invocation
  double imagesPerSec = 0.0;
};

class Trainer {
 public:
  // `graph` is trained in place. `control` carries the run's sr and lr and is shared with
  // the caller; null means a private one with sr 0 and lr options.lr (no sparsity).
  // Classification of `data` with options.trainTransform/evalTransform/labelSmoothing.
  Trainer(std::shared_ptr<Graph> graph, DatasetSplits data, TrainerOptions options,
          std::shared_ptr<TrainControl> control = nullptr);
  // Any task (e.g. DetectionTask); the options' transforms and label smoothing are unused.
  Trainer(std::shared_ptr<Graph> graph, std::shared_ptr<TrainTask> task, TrainerOptions options,
          std::shared_ptr<TrainControl> control = nullptr);
  ~Trainer();

  void addObserver(TrainObserver* observer);  // not owned; must outlive run()
  // Throws prunelab::Error on bad options, data errors and non-finite loss (the last
  // good checkpoint stays intact).
  TrainResult run();

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace prunelab
