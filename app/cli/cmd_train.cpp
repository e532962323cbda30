// prunelab-cli train / eval: classifiers and detectors: training, sparse training, fine-tuning, evaluation.

#include <cstdio>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/shape_inference.h"
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "detect/yolo_head.h"
#include "eval/detection_eval.h"
#include "exec/graph_module.h"
#include "cli/model_options.h"
#include "data/data_loader.h"
#include "data/detection/detection_batches.h"
#include "eval/classification_eval.h"
#include "exec/runtime.h"
#include "io/checkpoint.h"
#include "train/bn_stats.h"
#include "data/transforms.h"
#include "graph/input_shape.h"
#include "graph/scope_pattern.h"
#include "session/session.h"
#include "train/trainer.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

std::shared_ptr<TrainControl> g_control;
void onSignal(int) {
  if (g_control) g_control->cancelled = true;  // finish the batch, keep the last checkpoint
}

void printEpoch(const EpochStats& s) {
  if (s.task == "detect") {
    std::printf("epoch %3d/%d  loss %.3f", s.epoch + 1, s.epochs, s.trainLoss);
    for (const auto& [name, v] : s.taskMetrics)
      if (name.rfind("val/", 0) != 0) std::printf("  %s %.4f", name.c_str(), v);
    std::printf("  lr %.4g sr %.3g |g| mean %.4f <0.01 %.1f%%  %.1f img/s %.1fs%s\n", s.lr, s.sr, s.gamma.absMean,
                100 * s.gamma.fracBelow001, s.imagesPerSec, s.seconds, s.best ? "  *best" : "");
    std::fflush(stdout);
    return;
  }
  std::printf("epoch %3d/%d  train loss %.4f top1 %.2f%%  val loss %.4f top1 %.2f%% top5 %.2f%%  lr %.4g sr %.3g  "
              "|g| mean %.4f <0.01 %.1f%%  %.0f img/s %.1fs%s\n",
              s.epoch + 1, s.epochs, s.trainLoss, 100 * s.trainTop1, s.valLoss, 100 * s.valTop1, 100 * s.valTop5, s.lr,
              s.sr, s.gamma.absMean, 100 * s.gamma.fracBelow001, s.imagesPerSec, s.seconds, s.best ? "  *best" : "");
  std::fflush(stdout);
}

class ConsoleObserver : public TrainObserver {
 public:
  explicit ConsoleObserver(bool quiet) : m_quiet(quiet) {}
  void onEpoch(const EpochStats& s) override {
    if (!m_quiet) printEpoch(s);
  }
  void onMessage(const std::string& m) override {
    if (!m_quiet) std::printf("%s\n", m.c_str());
  }

 private:
  bool m_quiet;
};

// Options every data-reading command shares, beyond the data and task ones.
void addRunOptions(ArgParser& p) {
  addDataOptions(p);
  p.option("--batch", true, "batch size (default: the task's recipe, below)")
      .option("--workers", true, "data loader threads (default 2)")
      .option("--device", true, "cpu, cuda, cuda:N or auto (default cpu)")
      .option("--json", false, "print a JSON summary at the end")
      .option("--help", false, "show this help");
}

}  // namespace

int runTrain(int argc, char** argv) {
  ArgParser p;
  addModelOptions(p);
  addRunOptions(p);
  p.option("--epochs", true, "epochs (default 10)")
      .option("--lr", true, "base learning rate (default: the task's recipe)")
      .option("--optimizer", true, "sgd (Nesterov momentum) or adamw (default sgd)")
      .option("--momentum", true, "SGD momentum (default: the task's recipe)")
      .option("--weight-decay", true, "weight decay (default: the task's recipe)")
      .option("--schedule", true, "cosine, step or constant (default cosine)")
      .option("--warmup", true, "warm-up epochs (default: the task's recipe for the run length)")
      .option("--label-smoothing", true, "label smoothing (default 0)")
      .option("--sr", true, "BN-gamma L1 coefficient for sparse training (default 0)")
      .option("--sr-beta", true, "also penalise BN beta, as a multiple of sr (default 0)")
      .option("--sr-decay", false, "linear sr decay: sr * (1 - 0.9 * epoch / epochs)")
      .option("--sr-exclude", true, "BN scopes left dense (comma-separated patterns)")
      .option("--freeze", true, "freeze parameters of these scopes (comma-separated patterns)")
      .option("--train-only", true, "freeze everything except these scopes")
      .option("--lr-mult", true, "per-group lr: PATTERN=X[,PATTERN=X]")
      .option("--gamma-every", true, "BN-gamma snapshot period in steps (default 50)")
      .option("--val-every", true, "validate every N epochs and after the last (default 1)")
      .option("--out", true, "run directory (checkpoints, results.csv, log.jsonl)")
      .option("--resume", false, "continue the run in --out from its last checkpoint");
  p.parse(argc, argv, 2);
  if (p.has("--help")) {
    std::cout << "usage: prunelab-cli train --model NAME|PATH --data fashion-mnist|DIR|data.yaml --epochs N --out RUN_DIR "
                 "[options]\n\n"
              << p.help() << "\nTraining recipes (the workbench's Train panel starts from the same):\n"
              << recipeSummary();
    return 0;
  }
  configureThreads(static_cast<int>(p.getInt("--threads", 0)));
  const std::string runDir = p.require("--out");
  const std::string last = (std::filesystem::path(runDir) / "last.plm").string();
  const bool resuming = p.has("--resume") && std::filesystem::exists(last);
  if (!p.has("--resume") && std::filesystem::exists(last))
    throw Error(runDir, "already holds a run (last.plm): use --resume to continue it, or another --out");

  Session session;
  session.openData(dataSpec(p));
  session.loadModelForData(modelRequest(p), resuming ? last : "");
  const bool detect = session.data().task == TaskKind::Detect;

  TrainerOptions o = session.trainerOptions(static_cast<int>(p.getInt("--epochs", 10)), p.get("--optimizer", "sgd"));
  o.batchSize = p.getInt("--batch", o.batchSize);
  o.lr = p.getDouble("--lr", o.lr);
  o.momentum = p.getDouble("--momentum", o.momentum);
  o.weightDecay = p.getDouble("--weight-decay", o.weightDecay);
  o.schedule.kind = p.get("--schedule", "cosine");
  o.schedule.warmupEpochs = p.getDouble("--warmup", o.schedule.warmupEpochs);
  o.labelSmoothing = p.getDouble("--label-smoothing", 0.0);
  o.sparsity.srBeta = p.getDouble("--sr-beta", 0.0);
  o.sparsity.linearDecay = p.has("--sr-decay");
  o.sparsity.exclude = splitPatterns(p.get("--sr-exclude"));
  o.freeze = splitPatterns(p.get("--freeze"));
  o.trainOnly = splitPatterns(p.get("--train-only"));
  for (const auto& item : splitPatterns(p.get("--lr-mult"))) {
    const auto eq = item.rfind('=');
    if (eq == std::string::npos) throw Error("--lr-mult", "expects PATTERN=X, got '" + item + "'");
    o.lrMultipliers.emplace_back(item.substr(0, eq), std::stod(item.substr(eq + 1)));
  }
  o.gammaEvery = static_cast<int>(p.getInt("--gamma-every", 50));
  o.validateEvery = static_cast<int>(p.getInt("--val-every", 1));
  o.runDir = runDir;
  o.resume = p.has("--resume");
  o.device = resolveDevice(p.get("--device", "cpu"));
  o.seed = static_cast<uint64_t>(p.getInt("--seed", 0));
  o.workers = static_cast<int>(p.getInt("--workers", 2));

  auto control = std::make_shared<TrainControl>(p.getDouble("--sr", 0.0), o.lr);
  g_control = control;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  const bool json = p.has("--json");
  ConsoleObserver console(json);
  SessionTrainRequest req;
  req.options = o;
  req.control = control;
  req.observers = {&console};
  req.task = taskSettings(p);
  const Graph& model = session.model();
  if (!json)
    std::printf("training %s on %s, %d epochs, run dir %s\n",
                model.metadata().count("model") ? model.metadata().at("model").c_str() : p.get("--model").c_str(),
                session.data().description().c_str(), o.epochs, runDir.c_str());
  const TrainResult r = session.train(req);
  g_control.reset();
  const std::shared_ptr<Graph> graph = session.history().currentPtr();

  const GammaStats g = gammaStats(snapshotGammas(*graph));
  if (json) {
    // Common fields, then the task's: top-1/top-5 or ultralytics' metric names.
    nlohmann::json j = {{"task", detect ? "detect" : "classify"},
                        {"val_loss", r.last.valLoss},
                        {"best_fitness", r.bestFitness},
                        {"epochs_completed", r.epochsCompleted},
                        {"cancelled", r.cancelled},
                        {"seconds", r.seconds},
                        {"images_per_s", r.imagesPerSec},
                        {"bn_gamma_abs_mean", g.absMean},
                        {"bn_gamma_frac_below_0_01", g.fracBelow001},
                        {"bn_gamma_p50", g.p50},
                        {"run_dir", runDir}};
    if (!detect) {
      j["val_top1"] = r.last.valTop1;
      j["val_top5"] = r.last.valTop5;
      j["best_top1"] = r.bestTop1;
    }
    for (const auto& [name, v] : r.last.taskMetrics) j[name] = v;
    std::cout << j.dump(1) << "\n";
  } else if (detect) {
    double map50 = 0, map = 0;
    for (const auto& [name, v] : r.last.taskMetrics) {
      if (name == "metrics/mAP50") map50 = v;
      if (name == "metrics/mAP50-95") map = v;
    }
    std::printf("%s after %d epochs: mAP50 %.4f mAP50-95 %.4f, %.1f img/s, %.1fs; checkpoints in %s\n",
                r.cancelled ? "stopped" : "done", r.epochsCompleted, map50, map, r.imagesPerSec, r.seconds,
                runDir.c_str());
  } else {
    std::printf("%s after %d epochs: val top1 %.2f%% (best %.2f%%), %.0f img/s, %.1fs; checkpoints in %s\n",
                r.cancelled ? "stopped" : "done", r.epochsCompleted, 100 * r.last.valTop1, 100 * r.bestTop1,
                r.imagesPerSec, r.seconds, runDir.c_str());
  }
  return r.cancelled ? 130 : 0;
}

namespace {

int evalDetector(const ArgParser& p, Session& session) {
  const DetectionSplits& data = session.data().det;
  const std::shared_ptr<Graph> graph = session.history().currentPtr();
  const DetectionTaskOptions to = detectionTaskOptions(taskSettings(p), *graph, p.getInt("--batch", 16));
  const detect::YoloHead head = detect::readYoloHead(*graph);
  LoaderOptions lo;
  lo.batchSize = p.getInt("--batch", 32);
  lo.shuffle = false;
  lo.augment = false;
  lo.workers = static_cast<int>(p.getInt("--workers", 2));
  DataLoader loader(std::make_shared<DetectionBatches>(data.val, to.augment, 0), lo);
  const std::string device = resolveDevice(p.get("--device", "cpu"));
  GraphModule module(graph);
  module->to(torch::Device(device));
  const auto loss = detect::makeDetectionLoss(head, to.gains);
  const DetectEvalResult r = evaluateDetector(*module, head, loss.get(), loader, to.augment.imgsz, device, to.post);
  const GammaStats g = gammaStats(snapshotGammas(*graph));
  const auto names = data.val->classNames();
  if (p.has("--json")) {
    nlohmann::json perClass = nlohmann::json::object();
    for (size_t c = 0; c < names.size(); ++c)
      perClass[names[c]] = {{"ap50", r.metrics.ap50PerClass[c]}, {"ap50_95", r.metrics.apPerClass[c]},
                            {"instances", r.metrics.gtPerClass[c]}};
    const nlohmann::json j = {{"task", "detect"},       {"map50", r.metrics.map50},     {"map50_95", r.metrics.map50_95},
                              {"precision", r.metrics.precision}, {"recall", r.metrics.recall}, {"val_loss", r.loss},
                              {"images", r.images},     {"seconds", r.seconds},         {"per_class", perClass},
                              {"bn_gamma_abs_mean", g.absMean}};
    std::cout << j.dump(1) << "\n";
  } else {
    std::printf("%-14s %9s %9s %9s\n", "class", "instances", "AP50", "AP50-95");
    for (size_t c = 0; c < names.size(); ++c)
      std::printf("%-14s %9d %9.4f %9.4f\n", names[c].c_str(), r.metrics.gtPerClass[c], r.metrics.ap50PerClass[c],
                  r.metrics.apPerClass[c]);
    std::printf("%s: mAP50 %.4f  mAP50-95 %.4f  P %.4f  R %.4f  (%lld images, %.1fs)\n",
                data.val->description().c_str(), r.metrics.map50, r.metrics.map50_95, r.metrics.precision,
                r.metrics.recall, static_cast<long long>(r.images), r.seconds);
  }
  return 0;
}

}  // namespace

int runEval(int argc, char** argv) {
  ArgParser p;
  addModelOptions(p);
  addRunOptions(p);
  p.parse(argc, argv, 2);
  if (p.has("--help")) {
    std::cout << "usage: prunelab-cli eval --model NAME|PATH [--weights FILE] --data fashion-mnist|DIR|data.yaml [options]\n\n"
              << p.help();
    return 0;
  }
  configureThreads(static_cast<int>(p.getInt("--threads", 0)));
  Session session;
  session.openData(dataSpec(p));
  session.loadModelForData(modelRequest(p));
  if (session.data().task == TaskKind::Detect) return evalDetector(p, session);
  const DatasetSplits& data = session.data().cls;
  const std::shared_ptr<Graph> graph = session.history().currentPtr();
  TransformOptions trainT, evalT;
  defaultTransforms(*data.train, defaultInputShape(*graph).at(0), trainT, evalT);
  LoaderOptions lo;
  lo.batchSize = p.getInt("--batch", 256);
  lo.shuffle = false;
  lo.augment = false;
  lo.workers = static_cast<int>(p.getInt("--workers", 2));
  lo.transform = evalT;
  DataLoader loader(data.val, lo);
  const ClassifyMetrics m = evaluateClassifier(*graph, loader, resolveDevice(p.get("--device", "cpu")));
  const GammaStats g = gammaStats(snapshotGammas(*graph));
  if (p.has("--json")) {
    const nlohmann::json j = {{"val_top1", m.top1}, {"val_top5", m.top5},           {"val_loss", m.loss},
                              {"count", m.count},   {"bn_gamma_abs_mean", g.absMean}, {"bn_gamma_frac_below_0_01", g.fracBelow001}};
    std::cout << j.dump(1) << "\n";
  } else {
    std::printf("%s: top1 %.2f%%  top5 %.2f%%  loss %.4f  (%lld images)\n", data.val->description().c_str(),
                100 * m.top1, 100 * m.top5, m.loss, static_cast<long long>(m.count));
  }
  return 0;
}

}  // namespace prunelab::cli
