#include "cli/prune_iterative.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "cli/progress_line.h"
#include "io/checkpoint.h"
#include "pruning/plan_log.h"
#include "session/iterative_prune.h"
#include "session/session.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

// The options that only mean something with --fine-tune-epochs.
const char* const kIterativeOnly[] = {"--data",        "--run-dir",  "--fine-tune-lr", "--fine-tune-batch",
                                      "--train-limit", "--val-limit", "--task",        "--imgsz",
                                      "--mean",        "--std",       "--mosaic",      "--close-mosaic",
                                      "--conf",        "--iou"};

// SIGINT/SIGTERM: the running step's training finishes its batch and stops (its last.plm
// resumes it); one that arrives during a cut stops the next training before its first batch.
std::atomic<bool> g_stopped{false};
std::shared_ptr<TrainControl> g_control;
void onSignal(int) {
  g_stopped = true;
  if (g_control) g_control->cancelled = true;
}

// Training progress of each step: a progress line per epoch, one summary line after it.
class StepObserver : public TrainObserver {
 public:
  StepObserver(bool quiet, int64_t batch) : m_quiet(quiet), m_batch(batch), m_progress(quiet) {}
  void onStep(const StepStats& s) override {
    if (s.batch == 0) m_progress.start("fine-tune epoch " + std::to_string(s.epoch + 1));
    m_progress.update(s.batch + 1, s.batchesPerEpoch, m_batch);
  }
  void onEpoch(const EpochStats& s) override {
    m_progress.finish();
    if (m_quiet) return;
    std::printf("  epoch %d/%d  train loss %.4f", s.epoch + 1, s.epochs, s.trainLoss);
    if (s.task == "detect")
      for (const auto& [name, v] : s.taskMetrics) std::printf("  %s %.4f", name.c_str(), v);
    else
      std::printf("  val top1 %.2f%%", 100 * s.valTop1);
    std::printf("  lr %.4g  %.1fs\n", s.lr, s.seconds);
    std::fflush(stdout);
  }
  void onMessage(const std::string& m) override {
    m_progress.finish();
    std::fprintf(m_quiet ? stderr : stdout, "  %s\n", m.c_str());
  }

 private:
  bool m_quiet;
  int64_t m_batch;
  ProgressLine m_progress;
};

// "top1 85.16%", "mAP50-95 0.4120".
std::string metricText(const Metric& m) {
  char buf[64];
  if (m.name == "top1")
    std::snprintf(buf, sizeof buf, "top1 %.2f%%", 100 * m.value);
  else
    std::snprintf(buf, sizeof buf, "%s %.4f", m.name.c_str(), m.value);
  return buf;
}

void printStep(const IterativeStepReport& s) {
  std::printf("step %d/%d%s: %s, MACs %.2fM, params %lld, %s after the cut, %s after %d epoch(s) (cut %.1fs, "
              "training %.1fs); %s\n",
              s.step, s.steps, s.fromCheckpoint ? " (done before)" : "",
              s.cut ? ("cut " + std::to_string(s.channelsRemoved) + " conv/linear channels").c_str()
                    : "already at its aim, no cut",
              s.macs / 1e6, static_cast<long long>(s.params), metricText(s.afterCut).c_str(),
              metricText(s.afterTraining).c_str(), s.epochs, s.cutSeconds, s.trainSeconds, s.checkpoint.c_str());
  std::fflush(stdout);
}

nlohmann::json stepJson(const IterativeStepReport& s) {
  return {{"step", s.step},
          {"cut", s.cut},
          {"done_before", s.fromCheckpoint},
          {"aim", s.aim},
          {"channels_removed", s.channelsRemoved},
          {"macs", s.macs},
          {"params", s.params},
          {"metric", s.afterCut.name},
          {"after_cut", s.afterCut.value},
          {"after_training", s.afterTraining.value},
          {"epochs", s.epochs},
          {"cut_seconds", s.cutSeconds},
          {"train_seconds", s.trainSeconds},
          {"checkpoint", s.checkpoint}};
}

void printResult(bool json, const IterativePruneResult& r, const GraphCost& end, const std::string& outPath,
                 const std::string& runDir) {
  if (json) {
    nlohmann::json steps = nlohmann::json::array();
    for (const IterativeStepReport& s : r.steps) steps.push_back(stepJson(s));
    std::cout << nlohmann::json{{"steps", steps},
                                {"resumed_after", r.resumedAfter},
                                {"original", {{"metric", r.original.name}, {"value", r.original.value}}},
                                {"params_before", r.startParams},
                                {"params_after", end.params},
                                {"macs_before", r.startMacs},
                                {"macs_after", end.macs},
                                {"run_dir", runDir},
                                {"out", outPath}}
                     .dump(1)
              << "\n";
    return;
  }
  std::printf("\noriginal %s; after %zu step(s) %s\n", metricText(r.original).c_str(), r.steps.size(),
              r.steps.empty() ? "-" : metricText(r.steps.back().afterTraining).c_str());
  std::printf("params %lld -> %lld (%.1f%%), MACs %.2fM -> %.2fM (%.1f%%); saved %s (steps in %s)\n",
              static_cast<long long>(r.startParams), static_cast<long long>(end.params),
              100.0 * double(end.params) / double(r.startParams), r.startMacs / 1e6, end.macs / 1e6,
              100.0 * double(end.macs) / double(r.startMacs), outPath.c_str(), runDir.c_str());
}

// The run's training settings: the task's recipe, a tenth of its lr (fine-tuning a trained
// model, as the story does), and what the command line gave.
TrainSettings fineTuneSettings(const CommandLine& cl, const Session& session, const IterativeArgs& it) {
  TrainSettings s = recipeSettings(session.data().task, it.epochs);
  s.lr = cl.has("--fine-tune-lr") ? it.lr : s.lr / 10;
  if (cl.has("--fine-tune-batch")) s.batch = it.batch;
  return s;
}

}  // namespace

void addIterativeOptions(CommandLine& cl, IterativeArgs& it) {
  CLI::App& a = cl.app();
  a.add_option("--fine-tune-epochs", it.epochs,
               "train E epochs on --data after each of the --steps cuts (Torch-Pruning's iterative recipe); needs "
               "--data and --run-dir")
      ->type_name("E");
  a.add_option("--fine-tune-lr", it.lr, "learning rate of each step's training")
      ->type_name("X")
      ->default_str("a tenth of the task recipe's");
  a.add_option("--fine-tune-batch", it.batch, "batch size of each step's training")
      ->type_name("N")
      ->default_str("task recipe");
  a.add_option("--run-dir", it.runDir,
               "with --fine-tune-epochs: step-K.plm and each step's training run step-K/; started again on the "
               "same folder, the run resumes after its last step")
      ->type_name("DIR");
  addDataOptions(cl, it.data);
}

bool wantsIterative(const CommandLine& cl) { return cl.has("--fine-tune-epochs"); }

void checkIterativeArgs(const CommandLine& cl, const IterativeArgs& it) {
  if (!wantsIterative(cl)) {
    for (const char* o : kIterativeOnly)
      if (cl.has(o)) throw Error(o, "only applies with --fine-tune-epochs (pruning with training between the cuts)");
    return;
  }
  if (it.epochs < 1) throw Error("--fine-tune-epochs", "must be at least 1, got " + std::to_string(it.epochs));
  if (cl.has("--fine-tune-lr") && !(it.lr > 0)) throw Error("--fine-tune-lr", "must be positive");
  if (cl.has("--fine-tune-batch") && (it.batch < 1 || it.batch > kMaxBatch))
    throw Error("--fine-tune-batch", "must be between 1 and " + std::to_string(kMaxBatch));
  if (!cl.has("--data")) throw Error("--fine-tune-epochs", "needs --data: the data to train on after each cut");
  if (it.runDir.empty()) throw Error("--fine-tune-epochs", "needs --run-dir: the folder of each step's model and run");
  if (cl.has("--calib")) throw Error("--calib", "with --fine-tune-epochs, calibration uses --data");
  for (const char* o : {"--layer", "--from-sensitivity", "--target-latency"})
    if (cl.has(o))
      throw Error(o, "plans in one step; pruning with fine-tuning between the cuts takes --percent, --ratios, "
                     "--target-macs or --target-params");
}

int runIterativePrune(const CommandLine& cl, PruneRequest& request, CalibrationOptions calibration,
                      const std::string& outPath, IterativeArgs& it, Session& session, const std::string& modelName) {
  const bool json = cl.has("--json");
  it.data.spec.seed = request.importance.seed;  // prune's --seed: scores, calibration, subsets, training
  session.openData(it.data.spec);
  printDataReport(session.data());
  IterativePruneOptions o;
  o.steps = request.steps;
  o.training = fineTuneSettings(cl, session, it);
  o.task = it.data.task;
  calibration.seed = request.importance.seed;
  o.calibration = calibration;
  o.runDir = it.runDir;
  StepObserver observer(json, o.training.batch);
  o.observers = {&observer};
  o.onTrainStart = [](int, const std::shared_ptr<TrainControl>& control) {
    g_control = control;
    if (g_stopped) control->cancelled = true;
  };
  o.onMessage = [json](const std::string& m) { std::fprintf(json ? stderr : stdout, "%s\n", m.c_str()); };
  if (!json) o.onStep = printStep;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  if (!json)
    std::printf("pruning %s in %d step(s), %d epoch(s) of training after each (lr %g, batch %lld) on %s; run dir %s\n",
                modelName.c_str(), o.steps, o.training.epochs, o.training.lr,
                static_cast<long long>(o.training.batch), session.data().description().c_str(), o.runDir.c_str());
  const IterativePruneResult r = pruneIteratively(session, request, o);
  g_control.reset();
  if (r.cancelled) {
    std::fprintf(stderr, "stopped during step %zu's training; run the same command again to resume\n",
                 r.steps.size() + 1);
    return 130;
  }
  Checkpoint ck;
  ck.graph = session.model().share();
  ck.info["surgery_log"] = surgeryLogJson(r.log);
  ck.info["pruned_from"] = modelName;
  ck.info["iterative_schedule"] = r.schedule;
  saveCheckpoint(outPath, ck);
  printResult(json, r, computeCost(ck.graph), outPath, o.runDir);
  return 0;
}

}  // namespace prunelab::cli
