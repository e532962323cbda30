#include "session/story_plan.h"

#include <algorithm>

#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab {

namespace {

std::string num(double v) { return numberText(v); }

}  // namespace

StoryPlan makeStoryPlan(const StoryRequest& r) {
  if (!(r.percent > 0 && r.percent < 1)) throw Error("story", "the cut's percent must be in (0, 1), got " + num(r.percent));
  if (r.sparseEpochs < 1 || r.fineTuneEpochs < 1) throw Error("story", "each training stage needs at least one epoch");
  if (r.cutSteps < 1 || r.cutSteps > 100)
    throw Error("story", "the cut's steps must be between 1 and 100, got " + std::to_string(r.cutSteps));
  StoryPlan p;
  p.percent = r.percent;
  p.cutSteps = r.cutSteps;
  TrainSettings& s = p.sparse;
  s.epochs = r.sparseEpochs;
  s.batch = r.batch;
  s.lr = r.lr;
  s.sr = r.sr > 0 ? r.sr : 1e-3;
  s.autopilot.target = std::min(0.95, r.percent);
  s.autopilot.byEpoch = std::max(1, s.epochs);
  s.srTargeted = std::min(0.95, r.percent);
  s.srBeta = 1.0;
  TrainSettings& f = p.fineTune;
  f.epochs = r.fineTuneEpochs;
  f.batch = r.batch;
  f.lr = r.lr * 0.1;
  return p;
}

std::vector<std::string> storyCommands(const StoryPlan& p, const StoryInvocation& at) {
  const std::string& d = at.runDir;
  const TrainSettings& s = p.sparse;
  const TrainSettings& f = p.fineTune;
  std::vector<std::string> lines = {
      "prunelab-cli train --model " + d + "/0-original.plm " + at.dataArgs + " --epochs " + std::to_string(s.epochs) +
      " --batch " + std::to_string(s.batch) + " --lr " + num(s.lr) + " --sr " + num(s.sr) + " --sparsity-target " +
      num(s.autopilot.target) + " --by-epoch " + std::to_string(s.autopilot.byEpoch) + " --sr-targeted " +
      num(s.srTargeted) + " --sr-beta " + num(s.srBeta) + " --out " + d + "/sparse"};
  const std::string prune = "prunelab-cli prune --model " + d + "/sparse/last.plm --criterion " + p.criterion +
                            " --percent " + num(p.percent) + at.planOptions;
  std::string fineTuned = d + "/fine-tune/last.plm";
  if (p.cutSteps > 1) {
    // The fine-tuning runs after each cut, inside prune.
    lines.push_back(prune + " --steps " + std::to_string(p.cutSteps) + " --fine-tune-epochs " +
                    std::to_string(f.epochs) + " --fine-tune-batch " + std::to_string(f.batch) + " --fine-tune-lr " +
                    num(f.lr) + " " + at.dataArgs + " --run-dir " + d + "/cuts --out " + d + "/2-pruned.plm");
    fineTuned = d + "/2-pruned.plm";
  } else {
    lines.push_back(prune + " --out " + d + "/2-pruned.plm");
    lines.push_back("prunelab-cli train --model " + d + "/2-pruned.plm " + at.dataArgs + " --epochs " +
                    std::to_string(f.epochs) + " --batch " + std::to_string(f.batch) + " --lr " + num(f.lr) +
                    " --out " + d + "/fine-tune");
  }
  lines.push_back("prunelab-cli export --model " + fineTuned + " --format onnx --fold-bn --out " + d + "/pruned.onnx");
  lines.push_back("prunelab-cli report " + d + " --out " + d + "/report.pdf");
  return lines;
}

std::vector<std::pair<std::string, double>> storySettings(const StoryPlan& p) {
  std::vector<std::pair<std::string, double>> settings = {{"sparse_epochs", p.sparse.epochs},
          {"sr", p.sparse.sr},
          {"lr", p.sparse.lr},
          {"sparsity_target", p.sparse.autopilot.target},
          {"sr_targeted", p.sparse.srTargeted},
          {"batch", static_cast<double>(p.sparse.batch)},
          {"percent", p.percent},
          {"fine_tune_epochs", p.fineTune.epochs},
          {"fine_tune_lr", p.fineTune.lr}};
  if (p.cutSteps != 1) settings.emplace_back("cut_steps", p.cutSteps);
  return settings;
}

}  // namespace prunelab
