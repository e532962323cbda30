#pragma once
// Training recipes: the one set of defaults per task that the CLI (`train --help`) and
// the workbench's Train panel both start from. Detection follows ultralytics (batch 16,
// lr0 0.01, momentum 0.937, Nesterov, up to 3 warm-up epochs); classification follows
// the CIFAR ResNet recipes (batch 128, lr 0.1, momentum 0.9, Nesterov, 1 warm-up epoch).

#include <cstdint>
#include <string>

#include "train/distillation.h"
#include "train/sr_autopilot.h"

namespace prunelab {

enum class TaskKind { Classify, Detect };

struct TrainRecipe {
  int64_t batch = 128;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weightDecay = 5e-4;
  double warmupEpochs = 1.0;  // for the run length the recipe was asked for
};

// The recipe for `task` with `optimizer` ("sgd" | "adamw") over `epochs` epochs
// (short runs warm up less, so that a 2-epoch fine-tune is not all warm-up).
TrainRecipe trainRecipe(TaskKind task, const std::string& optimizer, int epochs);

// What a person chooses for one training run: the workbench's Train panel, each stage of
// the story (session/story_plan.h) and the demos' presets. Session::trainRequest() turns
// it into the trainer's options over the task's recipe (momentum, weight decay, warm-up).
// `prunelab-cli train` reads the same choices from its options.
struct TrainSettings {
  int epochs = 5;
  int64_t batch = 128;
  double lr = 0.1;
  double sr = 0.0;          // BN-gamma L1 (network slimming); the run's control starts here
  bool srDecay = false;     // sr * (1 - 0.9 * epoch / epochs)
  double srTargeted = 0.0;  // > 0: only the lowest fraction of |gamma| is penalised (SparsityOptions::targeted)
  double srBeta = 0.0;      // also penalise those channels' beta, as a multiple of sr
  SrAutopilotOptions autopilot;   // target > 0: the sr autopilot steers the run's control
  int gammaEvery = 20;            // BN-gamma snapshot period in steps
  double prunedNowPercent = 0.0;  // > 0: after each epoch, the score of a bn cut of this fraction
  std::string runDir;             // empty: no files
  // Distil from the history's baseline (the version before the first cut) with these.
  bool distill = false;
  DistillOptions kd;
  // > 1: data-parallel on this machine (the workbench is rank 0 and starts the others);
  // the batch is per process.
  int processes = 1;
};

// The task's recipe batch and lr for a run of `epochs` epochs, nothing else chosen.
TrainSettings recipeSettings(TaskKind task, int epochs = 5);
// The demos' presets (File > Demo classifier / detector): a few short epochs of sparse
// training at an sr strong enough to move the gammas visibly, and the classifier's
// "accuracy if pruned now" curve at the demo's 40 % cut.
TrainSettings demoSettings(TaskKind task);

// One line per task, for help texts: "classify: batch 128, lr 0.1 (adamw 0.001), ...".
std::string recipeSummary();

}  // namespace prunelab
