// prunelab-cli train / eval: classifiers and detectors: training, sparse training, fine-tuning, evaluation.

#include <cstdio>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/shape_inference.h"
#include "cli/autopilot_options.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/data_options.h"
#include "cli/dist_launch.h"
#include "distributed/dist_env.h"
#include "distributed/dist_group.h"
#include "detect/yolo_head.h"
#include "eval/detection_eval.h"
#include "eval/detection_files.h"
#include "eval/detection_predictor.h"
#include "data/detection/detection_augment.h"
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
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/parse_number.h"

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
  ConsoleObserver(bool quiet, int epochs, int64_t batchSize)
      : m_quiet(quiet), m_epochs(epochs), m_batchSize(batchSize), m_progress(quiet) {}
  void onStep(const StepStats& s) override {
    if (s.batch == 0) m_progress.start("train epoch " + std::to_string(s.epoch + 1) + "/" + std::to_string(m_epochs));
    m_progress.update(s.batch + 1, s.batchesPerEpoch, m_batchSize);
  }
  void onEpoch(const EpochStats& s) override {
    m_progress.finish();
    if (m_quiet) return;
    printEpoch(s);
    printAutopilotEpoch(s);
  }
  void onMessage(const std::string& m) override {
    m_progress.finish();
    if (!m_quiet) std::printf("%s\n", m.c_str());
  }

 private:
  bool m_quiet;
  int m_epochs;
  int64_t m_batchSize;
  ProgressLine m_progress;  // on a terminal: percent, images/s and ETA of the epoch
};

// The updating line of an evaluation (on a terminal; see ProgressLine).
void showProgress(DataLoader& loader, ProgressLine& line, const std::string& label) {
  line.start(label);
  loader.setProgress([&line](size_t done, size_t total, int64_t samples) {
    line.update(static_cast<int64_t>(done), static_cast<int64_t>(total), samples);
  });
}

// The default of the options that depend on the task (train --help prints the recipes).
constexpr const char* kRecipe = "task recipe";

// Evaluation batch sizes (no training recipe applies: there is no backward pass to fit).
constexpr int64_t kEvalBatchClassify = 256;
constexpr int64_t kEvalBatchDetect = 32;

// "fc=10,layer4=2" -> (pattern, multiplier) pairs.
std::vector<std::pair<std::string, double>> parseLrMultipliers(const std::string& text) {
  std::vector<std::pair<std::string, double>> r;
  for (const auto& item : splitPatterns(text)) {
    const auto eq = item.rfind('=');
    const std::optional<double> x = eq == std::string::npos ? std::nullopt : parseNumber(item.substr(eq + 1));
    if (!x) throw UsageError("--lr-mult", "expects PATTERN=X[,PATTERN=X], got '" + item + "'");
    r.emplace_back(item.substr(0, eq), *x);
  }
  return r;
}

}  // namespace

int runTrain(int argc, char** argv) {
  CommandLine cl("train", "--model NAME|PATH --data fashion-mnist|DIR|data.yaml --epochs N --out RUN_DIR [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  DataArgs data;
  addDataOptions(cl, data);
  RunArgs run;
  addRunOptions(cl, run, kRecipe);
  // The defaults --help shows are TrainerOptions' own; batch, lr, momentum, weight decay
  // and warm-up come from the task's recipe (below the options) unless given.
  TrainerOptions given;
  double sr = 0.0;  // BN-gamma L1 off: ordinary training
  std::string srExclude, freeze, trainOnly, lrMult, runDir, teacher;
  DistillOptions kd;
  CLI::App& a = cl.app();
  a.add_option("--epochs", given.epochs, "epochs")->type_name("N")->capture_default_str();
  a.add_option("--lr", given.lr, "base learning rate")->type_name("X")->default_str(kRecipe);
  a.add_option("--optimizer", given.optimizer, "sgd (Nesterov momentum) or adamw")->type_name("OPT")->capture_default_str();
  a.add_option("--momentum", given.momentum, "SGD momentum")->type_name("X")->default_str(kRecipe);
  a.add_option("--weight-decay", given.weightDecay, "weight decay")->type_name("X")->default_str(kRecipe);
  a.add_option("--schedule", given.schedule.kind, "cosine, step or constant")->type_name("KIND")->capture_default_str();
  a.add_option("--warmup", given.schedule.warmupEpochs, "warm-up epochs")
      ->type_name("EPOCHS")
      ->default_str(std::string(kRecipe) + " for the run length");
  a.add_option("--label-smoothing", data.task.labelSmoothing, "classification: label smoothing")
      ->type_name("X")
      ->capture_default_str();
  a.add_option("--sr", sr, "BN-gamma L1 coefficient for sparse training")->type_name("X")->capture_default_str();
  a.add_option("--sr-beta", given.sparsity.srBeta, "also penalise BN beta, as a multiple of sr")
      ->type_name("X")
      ->capture_default_str();
  a.add_option("--sr-targeted", given.sparsity.targeted,
               "penalise only the channels whose |gamma| ranks in this lowest fraction (those a bn cut of that "
               "percent takes; growing regularisation), not every gamma")
      ->type_name("FRACTION")
      ->capture_default_str();
  a.add_flag("--sr-decay", given.sparsity.linearDecay, "linear sr decay: sr * (1 - 0.9 * epoch / epochs)");
  a.add_option("--sr-exclude", srExclude, "BN scopes left dense (comma-separated patterns)")->type_name("PATTERNS");
  a.add_option("--freeze", freeze, "freeze parameters of these scopes (comma-separated patterns)")->type_name("PATTERNS");
  a.add_option("--train-only", trainOnly, "freeze everything except these scopes")->type_name("PATTERNS");
  a.add_option("--lr-mult", lrMult, "per-group lr: PATTERN=X[,PATTERN=X]")->type_name("LIST");
  a.add_option("--gamma-every", given.gammaEvery, "BN-gamma snapshot period in steps (0 = off)")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--val-every", given.validateEvery, "validate every N epochs and after the last")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--teacher", teacher,
               "distil from this trained model (.plm, .onnx, .pt), e.g. the model before pruning: it runs on the "
               "same batches and its softened outputs join the loss")
      ->type_name("FILE");
  a.add_option("--kd-weight", kd.weight,
               "with --teacher: W; classifiers (1-W) CE + W T^2 KL, detectors loss + W x soft-target term")
      ->type_name("W")
      ->capture_default_str();
  a.add_option("--kd-temperature", kd.temperature, "with --teacher: softening temperature T")
      ->type_name("T")
      ->capture_default_str();
  a.add_option("--out", runDir, "run directory (checkpoints, results.csv, log.jsonl)")->type_name("RUN_DIR")->required();
  a.add_flag("--resume", "continue the run in --out from its last checkpoint");
  SrAutopilotOptions autopilot;
  addAutopilotOptions(cl, autopilot);
  int nproc = 1;
  double distTimeout = 300;
  a.add_option("--nproc", nproc,
               "data-parallel training on N local processes (as torchrun --nproc_per_node N; under torchrun, "
               "Slurm & co. leave it out: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are read); --batch is per process")
      ->type_name("N")
      ->capture_default_str();
  a.add_flag("--sync-bn", given.syncBatchNorm, "data-parallel: BatchNorm statistics of the global batch (SyncBatchNorm)");
  a.add_flag("--bn-eval", given.frozenBatchNorm,
             "BatchNorm keeps its running statistics while training (gamma and beta still learn), as bn.eval()");
  a.add_flag("--no-augment", "train on the images as validation sees them (no random flips, crops, mosaic)");
  a.add_flag("--no-grad-overlap", "data-parallel: all-reduce the gradients after backward instead of during it");
  a.add_option("--dist-timeout", distTimeout,
               "data-parallel: seconds to reach the store and for any one collective before giving up")
      ->type_name("S")
      ->capture_default_str();
  cl.footer("\nTraining recipes (the task's defaults; the workbench's Train panel starts from the same):\n" +
            recipeSummary());
  if (!cl.parse(argc, argv)) return 0;
  checkAutopilotArgs(cl, autopilot, given.epochs);
  // Before any data loads: the run's folder will be needed at the end of epoch 1.
  if (std::filesystem::exists(runDir) && !std::filesystem::is_directory(runDir))
    throw Error(runDir, "is a file, not a directory (--out names the run's folder)");
  const std::optional<DistEnv> distEnv = distEnvFromEnvironment();
  if (cl.has("--nproc") && nproc < 1) throw UsageError("--nproc", "must be at least 1, got " + std::to_string(nproc));
  if (!(distTimeout > 0)) throw UsageError("--dist-timeout", "must be positive");
  if (nproc > 1 && !distEnv) return launchLocalWorkers(nproc, argsWithoutNproc(argc, argv));
  // A worker (of --nproc, torchrun, Slurm...): only rank 0 prints; the others keep stderr.
  const int rank = distEnv ? distEnv->rank : 0;
  if (rank > 0 && !std::freopen("/dev/null", "w", stdout)) throw Error("stdout", "cannot silence rank " + std::to_string(rank));
  if (teacher.empty()) {
    for (const char* o : {"--kd-weight", "--kd-temperature"})
      if (cl.has(o)) throw UsageError(o, "only applies with --teacher");
  } else {
    checkDistillOptions(kd);  // before the data and models load
  }
  configureThreads(model.threads);
  const std::string last = (std::filesystem::path(runDir) / "last.plm").string();
  const bool resume = cl.has("--resume");
  const bool resuming = resume && std::filesystem::exists(last);
  if (!resume && rank == 0 && std::filesystem::exists(last))
    throw Error(runDir, "already holds a run (last.plm): use --resume to continue it, or another --out");
  // Scripts pass --resume to start or continue alike, so a missing checkpoint is allowed,
  // but said: a mistyped --out would otherwise retrain from scratch unnoticed.
  if (resume && !resuming && rank == 0)
    std::fprintf(stderr, "warning: --resume: %s does not exist; starting a new run\n", last.c_str());

  Session session;
  session.openData(data.spec);
  printDataReport(session.data());
  session.loadModelForData(model.request, resuming ? last : "", /*transfer=*/true);
  const bool json = cl.has("--json");
  const ModelLoadReport& loaded = session.lastLoadReport();
  printLoadWarnings(loaded);
  if (!json)
    for (const std::string& line : loaded.lines()) std::printf("%s\n", line.c_str());
  const bool detect = session.data().task == TaskKind::Detect;

  TrainerOptions o = session.trainerOptions(given.epochs, given.optimizer);
  if (cl.has("--batch")) o.batchSize = run.batch;
  if (cl.has("--lr")) o.lr = given.lr;
  if (cl.has("--momentum")) o.momentum = given.momentum;
  if (cl.has("--weight-decay")) o.weightDecay = given.weightDecay;
  if (cl.has("--warmup")) o.schedule.warmupEpochs = given.schedule.warmupEpochs;
  o.schedule.kind = given.schedule.kind;
  o.labelSmoothing = data.task.labelSmoothing;
  o.sparsity = given.sparsity;
  o.sparsity.exclude = splitPatterns(srExclude);
  o.freeze = splitPatterns(freeze);
  o.trainOnly = splitPatterns(trainOnly);
  o.lrMultipliers = parseLrMultipliers(lrMult);
  o.gammaEvery = given.gammaEvery;
  o.validateEvery = given.validateEvery;
  o.runDir = runDir;
  o.resume = resume;
  o.device = runDevice(run);
  o.seed = data.spec.seed;
  o.workers = run.workers;
  o.syncBatchNorm = given.syncBatchNorm;
  o.frozenBatchNorm = given.frozenBatchNorm;
  o.overlapGradReduce = !cl.has("--no-grad-overlap");
  o.augment = !cl.has("--no-augment");
  if (distEnv && distEnv->world > 1) {
    DistEnv env = *distEnv;
    // One GPU per rank on a machine, as torchrun scripts pick it: cuda -> cuda:LOCAL_RANK.
    if (o.device == "cuda") o.device = "cuda:" + std::to_string(env.localRank);
    env.timeout = env.connectTimeout = std::chrono::milliseconds(static_cast<int64_t>(distTimeout * 1000));
    o.dist = DistGroup::join(env, o.device);
    std::printf("data-parallel: %s, %s backend, batch %lld per rank (global %lld)\n", describe(env).c_str(),
                o.dist->backend().c_str(), static_cast<long long>(o.batchSize),
                static_cast<long long>(o.batchSize * env.world));
  }
  if (cl.has("--sparsity-target")) o.autopilot = autopilot;
  if (!teacher.empty()) {
    o.teacher = session.loadTeacher(teacher);
    o.teacherName = "--teacher " + teacher;
    o.distill = kd;
  }

  auto control = std::make_shared<TrainControl>(sr, o.lr);
  g_control = control;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  ConsoleObserver console(json, o.epochs, o.batchSize);
  SessionTrainRequest req;
  req.options = o;
  req.control = control;
  req.observers = {&console};
  req.task = data.task;
  const Graph& start = session.model();
  if (!json)
    std::printf("training %s on %s, %d epochs, run dir %s\n",
                start.metadata().count("model") ? start.metadata().at("model").c_str() : model.request.model.c_str(),
                session.data().description().c_str(), o.epochs, runDir.c_str());
  if (!json && o.teacher)
    std::printf("distilling from %s (kd weight %g, temperature %g)\n", teacher.c_str(), kd.weight, kd.temperature);
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
    if (loaded.transfer) {
      j["transferred"] = loaded.transfer->transferred;
      j["transfer_total"] = loaded.transfer->total;
      j["transfer_skipped"] = loaded.transfer->skipped;
    }
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

// eval --save-txt: what the evaluator found in each validation image, as predict writes it.
struct SaveTxt {
  std::string dir;
  bool withScore = false;
};

int evalDetector(const CommandLine& cl, const DataArgs& data, const RunArgs& run, Session& session, const SaveTxt& save) {
  const DetectionSplits& det = session.data().det;
  const std::shared_ptr<Graph> graph = session.history().currentPtr();
  // The training batch sets the detection validation batch as in training (the recipe's unless given).
  const int64_t trainBatch = cl.has("--batch") ? run.batch : trainRecipe(TaskKind::Detect, "sgd", 1).batch;
  const DetectionTaskOptions to = detectionTaskOptions(data.task, *graph, trainBatch);
  const detect::YoloHead head = detect::readYoloHead(*graph);
  LoaderOptions lo;
  lo.batchSize = cl.has("--batch") ? run.batch : kEvalBatchDetect;
  lo.shuffle = false;
  lo.augment = false;
  lo.workers = run.workers;
  DataLoader loader(std::make_shared<DetectionBatches>(det.val, to.augment, 0), lo);
  const std::string device = runDevice(run);
  GraphModule module(graph);
  module->to(torch::Device(device));
  const auto loss = detect::makeDetectionLoss(head, to.gains);
  ProgressLine progress(cl.has("--json"));
  showProgress(loader, progress, "eval");
  DetectionSink sink;
  if (!save.dir.empty()) {
    createDirectories(save.dir);
    sink = [&](size_t index, const std::vector<Detection>& found) {
      const ImageU8 image = det.val->image(index);  // for its size: detections return to its pixels
      const LetterboxGeometry g = letterboxGeometry(image.width, image.height, to.augment.imgsz);
      const std::filesystem::path path =
          std::filesystem::path(save.dir) / (std::filesystem::path(det.val->imagePath(index)).stem().string() + ".txt");
      writeYoloLabels(path.string(), toImagePixels(found, g), image.width, image.height, save.withScore);
    };
  }
  const DetectEvalResult r =
      evaluateDetector(*module, head, loss.get(), loader, to.augment.imgsz, device, to.post, 0, sink);
  progress.finish();
  const GammaStats g = gammaStats(snapshotGammas(*graph));
  const auto names = det.val->classNames();
  if (cl.has("--json")) {
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
                det.val->description().c_str(), r.metrics.map50, r.metrics.map50_95, r.metrics.precision,
                r.metrics.recall, static_cast<long long>(r.images), r.seconds);
  }
  return 0;
}

}  // namespace

int runEval(int argc, char** argv) {
  CommandLine cl("eval", "--model NAME|PATH [--weights FILE] --data fashion-mnist|DIR|data.yaml [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  DataArgs data;
  addDataOptions(cl, data);
  RunArgs run;
  addRunOptions(cl, run,
                "classify " + std::to_string(kEvalBatchClassify) + ", detect " + std::to_string(kEvalBatchDetect));
  SaveTxt save;
  cl.app()
      .add_option("--save-txt", save.dir,
                  "detection: write each validation image's detections to DIR/<stem>.txt as predict --save-txt does")
      ->type_name("DIR");
  cl.app().add_flag("--save-conf", save.withScore, "with --save-txt: the score after each box");
  if (!cl.parse(argc, argv)) return 0;
  configureThreads(model.threads);
  Session session;
  session.openData(data.spec);
  printDataReport(session.data());
  session.loadModelForData(model.request);
  printLoadWarnings(session.lastLoadReport());
  if (session.data().task == TaskKind::Detect) return evalDetector(cl, data, run, session, save);
  if (!save.dir.empty()) throw Error("--save-txt", "writes detections: the data is not detection data");
  const DatasetSplits& cls = session.data().cls;
  const std::shared_ptr<Graph> graph = session.history().currentPtr();
  TransformOptions trainT, evalT;
  classifyTransforms(session.data(), defaultInputShape(*graph).at(0), trainT, evalT);
  LoaderOptions lo;
  lo.batchSize = cl.has("--batch") ? run.batch : kEvalBatchClassify;
  lo.shuffle = false;
  lo.augment = false;
  lo.workers = run.workers;
  lo.transform = evalT;
  DataLoader loader(cls.val, lo);
  ProgressLine progress(cl.has("--json"));
  showProgress(loader, progress, "eval");
  const ClassifyMetrics m = evaluateClassifier(*graph, loader, runDevice(run));
  progress.finish();
  const GammaStats g = gammaStats(snapshotGammas(*graph));
  if (cl.has("--json")) {
    const nlohmann::json j = {{"val_top1", m.top1}, {"val_top5", m.top5},           {"val_loss", m.loss},
                              {"count", m.count},   {"bn_gamma_abs_mean", g.absMean}, {"bn_gamma_frac_below_0_01", g.fracBelow001}};
    std::cout << j.dump(1) << "\n";
  } else {
    std::printf("%s: top1 %.2f%%  top5 %.2f%%  loss %.4f  (%lld images)\n", cls.val->description().c_str(),
                100 * m.top1, 100 * m.top5, m.loss, static_cast<long long>(m.count));
  }
  return 0;
}

}  // namespace prunelab::cli
