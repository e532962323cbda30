#pragma once
// The story's recipe: what "Run the whole story" (the workbench, `prunelab --story`) trains,
// cuts and fine-tunes, and the prunelab-cli commands that redo it. One place for the
// choices, so that the workbench's run and the commands it records agree:
//  - the sparse stage is network slimming aimed at the cut: the sr autopilot steers the
//    share of |gamma| below 0.01 to the cut's percent by the stage's last epoch, and only
//    the channels the cut will take are penalised (with their betas), so the rest of the
//    network keeps its scale (train/targeted_sparsity.h);
//  - the cut is a global bn percent;
//  - fine-tuning is dense (no sr, nothing steering it) at a tenth of the learning rate;
//  - the cut is made at once (cutSteps 1), or in cutSteps cuts with the fine-tuning after
//    each (session/iterative_prune.h: prune --steps N --fine-tune-epochs E), for a recipe
//    that chooses it. The workbench's own run (app/gui's story) cuts at once whatever
//    cutSteps says, so it stays 1 unless the commands alone are wanted.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "session/train_recipe.h"

namespace prunelab {

struct StoryPlan {
  TrainSettings sparse, fineTune;  // runDir left empty: the story sets it
  std::string criterion = "bn";
  double percent = 0.4;  // of the prunable channels, global
  int cutSteps = 1;      // > 1: that many cuts, each followed by fineTune (its epochs per cut)
};

struct StoryRequest {
  int sparseEpochs = 2;
  int fineTuneEpochs = 2;
  double percent = 0.4;  // in (0, 1)
  int64_t batch = 128;
  double lr = 0.1;       // the sparse stage's; fine-tuning takes a tenth
  double sr = 0.0;       // the starting sr; 0: 1e-3 (the autopilot moves it)
  int cutSteps = 1;      // StoryPlan::cutSteps, 1..100
};

StoryPlan makeStoryPlan(const StoryRequest& request);

// Where the story runs and what it was given, for its reproducing commands.
struct StoryInvocation {
  std::string runDir;
  std::string dataArgs;     // "--data SPEC [--train-limit N] [--val-limit N] [--imgsz N]"
  std::string planOptions;  // the Prune panel's constraints: " --round-to 8 --min-channels 2 ..."
};

// The prunelab-cli lines that redo the story from its 0-original.plm: sparse train,
// prune, fine-tune, export, report (with cutSteps > 1, prune fine-tunes between its cuts
// in runDir/cuts and there is no separate fine-tune line).
std::vector<std::string> storyCommands(const StoryPlan& plan, const StoryInvocation& at);

// story.json's "settings": (name, value) in the order the report lists them ("cut_steps"
// only when it is not 1).
std::vector<std::pair<std::string, double>> storySettings(const StoryPlan& plan);

}  // namespace prunelab
