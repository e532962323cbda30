#pragma once
// What the trainer reports, and the live controls it obeys.
//
// Threads: observer callbacks run on the *training thread*, between batches; keep them
// short (copy the values, signal another thread). The GUI batches them on a timer.
// TrainControl is written by any thread and read by the trainer once per step.

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "train/bn_stats.h"

namespace prunelab {

struct StepStats {
  int epoch = 0;            // 0-based
  int64_t step = 0;         // global step, from 0
  int64_t batch = 0;        // batch within the epoch
  int64_t batchesPerEpoch = 0;
  double loss = 0.0;        // task loss (without the L1 term)
  double lr = 0.0;          // base lr in effect (first parameter group)
  double sr = 0.0;          // effective sparsity coefficient used by this step
  double imagesPerSec = 0.0;  // over this step, data wait included
  // The sr autopilot's measurement before this step: the fraction of |gamma| below its
  // threshold and its schedule's target (both < 0 when it did not measure this step).
  double sparseFraction = -1.0, sparseTarget = -1.0;
};

struct EpochStats {
  int epoch = 0;  // 0-based
  int epochs = 0;
  double trainLoss = 0.0, trainTop1 = 0.0;
  double valLoss = 0.0, valTop1 = 0.0, valTop5 = 0.0;
  double lr = 0.0, sr = 0.0;
  double seconds = 0.0;
  double imagesPerSec = 0.0;  // training, data loading included
  double dataWaitFraction = 0.0;  // share of the epoch the trainer waited for batches
  GammaStats gamma;
  // Fraction of the penalised BNs' |gamma| below sparseThreshold (the autopilot's
  // threshold, 0.01 without it) at the epoch's end, and the autopilot's target then
  // (< 0: no autopilot steering at the epoch's end).
  double sparseFraction = 0.0, sparseThreshold = 0.01, sparseTarget = -1.0;
  std::string task = "classify";  // "detect": valTop1/valTop5/trainTop1 are unused
  // Task-specific columns in log order, e.g. ("metrics/mAP50", 0.81) for detection.
  std::vector<std::pair<std::string, double>> taskMetrics;
  double fitness = 0.0;  // what best.plm maximises: top-1, or 0.1 mAP50 + 0.9 mAP50-95
  bool validated = true;  // false: validation skipped this epoch (--val-every); val fields are 0
  bool best = false;
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void onStep(const StepStats&) {}
  virtual void onEpoch(const EpochStats&) {}
  virtual void onGammas(const GammaSnapshot&) {}
  virtual void onMessage(const std::string&) {}
};

// The live controls of one training run, and the only place its sparsity coefficient
// lives: created by whoever starts the run (with the run's starting sr and lr), shared
// with the trainer, written by any thread (a slider, a signal handler). A Cancel or an sr
// move made before the run starts (while it waits in a queue) is honoured by its first step.
struct TrainControl {
  explicit TrainControl(double sr0 = 0.0, double lr0 = 0.1) : sr(sr0), lr(lr0) {}
  std::atomic<double> sr;             // live sparsity coefficient (before linear decay)
  std::atomic<double> lr;             // live base learning rate (before the schedule)
  std::atomic<bool> paused{false};
  std::atomic<bool> cancelled{false};
  // The sr autopilot may steer sr (when the run has one: TrainerOptions::autopilot). The
  // trainer clears it when sr is written by anyone else (a hand on the slider takes over);
  // a GUI toggle clears it, and setting it again re-engages the pilot from the current sr.
  std::atomic<bool> autopilot{true};
};

}  // namespace prunelab
