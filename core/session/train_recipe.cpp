#include "session/train_recipe.h"

#include <sstream>

namespace prunelab {

TrainRecipe trainRecipe(TaskKind task, const std::string& optimizer, int epochs) {
  const bool adamw = optimizer == "adamw";
  TrainRecipe r;
  if (task == TaskKind::Detect) {
    r.batch = 16;
    r.lr = adamw ? 1e-3 : 0.01;
    r.momentum = 0.937;
    r.warmupEpochs = epochs >= 10 ? 3.0 : epochs > 2 ? 1.0 : 0.0;
  } else {
    r.batch = 128;
    r.lr = adamw ? 1e-3 : 0.1;
    r.momentum = 0.9;
    r.warmupEpochs = epochs > 2 ? 1.0 : 0.0;
  }
  r.nesterov = true;
  r.weightDecay = adamw ? 0.05 : 5e-4;
  return r;
}

TrainSettings recipeSettings(TaskKind task, int epochs) {
  const TrainRecipe r = trainRecipe(task, "sgd", epochs);
  TrainSettings s;
  s.epochs = epochs;
  s.batch = r.batch;
  s.lr = r.lr;
  return s;
}

TrainSettings demoSettings(TaskKind task) {
  TrainSettings s = recipeSettings(task, task == TaskKind::Detect ? 2 : 3);
  s.sr = 5e-3;
  s.prunedNowPercent = task == TaskKind::Detect ? 0.0 : 0.4;
  return s;
}

std::string recipeSummary() {
  std::ostringstream s;
  for (const TaskKind t : {TaskKind::Classify, TaskKind::Detect}) {
    const TrainRecipe r = trainRecipe(t, "sgd", 10), a = trainRecipe(t, "adamw", 10);
    s << (t == TaskKind::Detect ? "detect:   " : "classify: ") << "batch " << r.batch << ", lr " << r.lr << " (adamw "
      << a.lr << "), momentum " << r.momentum << " Nesterov, weight decay " << r.weightDecay << " (adamw "
      << a.weightDecay << "), warm-up " << r.warmupEpochs << " epoch(s) from 10 epochs ("
      << trainRecipe(t, "sgd", 3).warmupEpochs << " from 3, 0 below)\n";
  }
  return s.str();
}

}  // namespace prunelab
