#pragma once
// Training recipes: the one set of defaults per task that the CLI (`train --help`) and
// the workbench's Train panel both start from. Detection follows ultralytics (batch 16,
// lr0 0.01, momentum 0.937, Nesterov, up to 3 warm-up epochs); classification follows
// the CIFAR ResNet recipes (batch 128, lr 0.1, momentum 0.9, Nesterov, 1 warm-up epoch).

#include <cstdint>
#include <string>

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

// One line per task, for help texts: "classify: batch 128, lr 0.1 (adamw 0.001), ...".
std::string recipeSummary();

}  // namespace prunelab
