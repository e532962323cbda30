// prunelab-cli train: classifiers and detectors: training, sparse training, fine-tuning,
// distillation, data-parallel runs. An adapter: the recipe and the run are the Session's.

#include <cstdio>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/autopilot_options.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/data_options.h"
#include "cli/dist_launch.h"
#include "distributed/dist_env.h"
#include "distributed/dist_group.h"
#include "cli/model_options.h"
#include "exec/runtime.h"
#include "train/bn_stats.h"
#include "graph/scope_pattern.h"
#include "session/session.h"
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

// The default of the options that depend on the task (train --help prints the recipes).
constexpr const char* kRecipe = "task recipe";

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

// Every option of train besides the model, data and run options.
struct TrainArgs {
  // The defaults --help shows are TrainerOptions' own; batch, lr, momentum, weight decay
  // and warm-up come from the task's recipe (Session::trainerOptions) unless given.
  TrainerOptions given;
  double sr = 0.0;  // BN-gamma L1 off: ordinary training
  std::string srExclude, freeze, trainOnly, lrMult, runDir, teacher;
  DistillOptions kd;
  SrAutopilotOptions autopilot;
  int nproc = 1;
  double distTimeout = 300;
};

void addScheduleOptions(CLI::App& a, TrainArgs& t, DataArgs& data) {
  a.add_option("--epochs", t.given.epochs, "epochs")->type_name("N")->capture_default_str();
  a.add_option("--lr", t.given.lr, "base learning rate")->type_name("X")->default_str(kRecipe);
  a.add_option("--optimizer", t.given.optimizer, "sgd (Nesterov momentum) or adamw")->type_name("OPT")->capture_default_str();
  a.add_option("--momentum", t.given.momentum, "SGD momentum")->type_name("X")->default_str(kRecipe);
  a.add_option("--weight-decay", t.given.weightDecay, "weight decay")->type_name("X")->default_str(kRecipe);
  a.add_option("--schedule", t.given.schedule.kind, "cosine, step or constant")->type_name("KIND")->capture_default_str();
  a.add_option("--warmup", t.given.schedule.warmupEpochs, "warm-up epochs")
      ->type_name("EPOCHS")
      ->default_str(std::string(kRecipe) + " for the run length");
  a.add_option("--label-smoothing", data.task.labelSmoothing, "classification: label smoothing")
      ->type_name("X")
      ->capture_default_str();
}

void addSparsityOptions(CLI::App& a, TrainArgs& t) {
  a.add_option("--sr", t.sr, "BN-gamma L1 coefficient for sparse training")->type_name("X")->capture_default_str();
  a.add_option("--sr-beta", t.given.sparsity.srBeta, "also penalise BN beta, as a multiple of sr")
      ->type_name("X")
      ->capture_default_str();
  a.add_option("--sr-targeted", t.given.sparsity.targeted,
               "penalise only the channels whose |gamma| ranks in this lowest fraction (those a bn cut of that "
               "percent takes; growing regularisation), not every gamma")
      ->type_name("FRACTION")
      ->capture_default_str();
  a.add_flag("--sr-decay", t.given.sparsity.linearDecay, "linear sr decay: sr * (1 - 0.9 * epoch / epochs)");
  a.add_option("--sr-exclude", t.srExclude, "BN scopes left dense (comma-separated patterns)")->type_name("PATTERNS");
}

void addParameterOptions(CLI::App& a, TrainArgs& t) {
  a.add_option("--freeze", t.freeze, "freeze parameters of these scopes (comma-separated patterns)")->type_name("PATTERNS");
  a.add_option("--train-only", t.trainOnly, "freeze everything except these scopes")->type_name("PATTERNS");
  a.add_option("--lr-mult", t.lrMult, "per-group lr: PATTERN=X[,PATTERN=X]")->type_name("LIST");
  a.add_option("--gamma-every", t.given.gammaEvery, "BN-gamma snapshot period in steps (0 = off)")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--val-every", t.given.validateEvery, "validate every N epochs and after the last")
      ->type_name("N")
      ->capture_default_str();
  a.add_flag("--bn-eval", t.given.frozenBatchNorm,
             "BatchNorm keeps its running statistics while training (gamma and beta still learn), as bn.eval()");
  a.add_flag("--no-augment", "train on the images as validation sees them (no random flips, crops, mosaic)");
}

void addDistillOptions(CLI::App& a, TrainArgs& t) {
  a.add_option("--teacher", t.teacher,
               "distil from this trained model (.plm, .onnx, .pt), e.g. the model before pruning: it runs on the "
               "same batches and its softened outputs join the loss")
      ->type_name("FILE");
  a.add_option("--kd-weight", t.kd.weight,
               "with --teacher: W; classifiers (1-W) CE + W T^2 KL, detectors loss + W x soft-target term")
      ->type_name("W")
      ->capture_default_str();
  a.add_option("--kd-temperature", t.kd.temperature, "with --teacher: softening temperature T")
      ->type_name("T")
      ->capture_default_str();
}

void addParallelOptions(CLI::App& a, TrainArgs& t) {
  a.add_option("--nproc", t.nproc,
               "data-parallel training on N local processes (as torchrun --nproc_per_node N; under torchrun, "
               "Slurm & co. leave it out: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are read); --batch is per process")
      ->type_name("N")
      ->capture_default_str();
  a.add_flag("--sync-bn", t.given.syncBatchNorm, "data-parallel: BatchNorm statistics of the global batch (SyncBatchNorm)");
  a.add_flag("--no-grad-overlap", "data-parallel: all-reduce the gradients after backward instead of during it");
  a.add_option("--dist-timeout", t.distTimeout,
               "data-parallel: seconds to reach the store and for any one collective before giving up")
      ->type_name("S")
      ->capture_default_str();
}

// Whether the run continues --out's last checkpoint; refuses to overwrite a run.
bool resumesRun(const CommandLine& cl, const std::string& runDir, int rank) {
  const std::string last = (std::filesystem::path(runDir) / "last.plm").string();
  const bool resume = cl.has("--resume");
  const bool resuming = resume && std::filesystem::exists(last);
  if (!resume && rank == 0 && std::filesystem::exists(last))
    throw Error(runDir, "already holds a run (last.plm): use --resume to continue it, or another --out");
  // Scripts pass --resume to start or continue alike, so a missing checkpoint is allowed,
  // but said: a mistyped --out would otherwise retrain from scratch unnoticed.
  if (resume && !resuming && rank == 0)
    std::fprintf(stderr, "warning: --resume: %s does not exist; starting a new run\n", last.c_str());
  return resuming;
}

// The session's recipe for the data's task, with what the command line gave.
TrainerOptions optionsFromArgs(const Session& session, const CommandLine& cl, const TrainArgs& t, const DataArgs& data,
                              const RunArgs& run) {
  const TrainerOptions& given = t.given;
  TrainerOptions o = session.trainerOptions(given.epochs, given.optimizer);
  if (cl.has("--batch")) o.batchSize = run.batch;
  if (cl.has("--lr")) o.lr = given.lr;
  if (cl.has("--momentum")) o.momentum = given.momentum;
  if (cl.has("--weight-decay")) o.weightDecay = given.weightDecay;
  if (cl.has("--warmup")) o.schedule.warmupEpochs = given.schedule.warmupEpochs;
  o.schedule.kind = given.schedule.kind;
  o.labelSmoothing = data.task.labelSmoothing;
  o.sparsity = given.sparsity;
  o.sparsity.exclude = splitPatterns(t.srExclude);
  o.freeze = splitPatterns(t.freeze);
  o.trainOnly = splitPatterns(t.trainOnly);
  o.lrMultipliers = parseLrMultipliers(t.lrMult);
  o.gammaEvery = given.gammaEvery;
  o.validateEvery = given.validateEvery;
  o.runDir = t.runDir;
  o.resume = cl.has("--resume");
  o.device = runDevice(run);
  o.seed = data.spec.seed;
  o.workers = run.workers;
  o.syncBatchNorm = given.syncBatchNorm;
  o.frozenBatchNorm = given.frozenBatchNorm;
  o.overlapGradReduce = !cl.has("--no-grad-overlap");
  o.augment = !cl.has("--no-augment");
  if (cl.has("--sparsity-target")) o.autopilot = t.autopilot;
  return o;
}

// One rank of a data-parallel run: joins the group (one GPU per rank on a machine, as
// torchrun scripts pick it: cuda -> cuda:LOCAL_RANK).
void joinDataParallel(TrainerOptions& o, DistEnv env, double timeoutSeconds) {
  if (o.device == "cuda") o.device = "cuda:" + std::to_string(env.localRank);
  env.timeout = env.connectTimeout = std::chrono::milliseconds(static_cast<int64_t>(timeoutSeconds * 1000));
  o.dist = DistGroup::join(env, o.device);
  std::printf("data-parallel: %s, %s backend, batch %lld per rank (global %lld)\n", describe(env).c_str(),
              o.dist->backend().c_str(), static_cast<long long>(o.batchSize),
              static_cast<long long>(o.batchSize * env.world));
}

void printTrainJson(const TrainResult& r, const ModelLoadReport& loaded, const GammaStats& g, bool detect,
                    const std::string& runDir) {
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
}

void printTrainSummary(const TrainResult& r, bool detect, const std::string& runDir) {
  if (detect) {
    double map50 = 0, map = 0;
    for (const auto& [name, v] : r.last.taskMetrics) {
      if (name == "metrics/mAP50") map50 = v;
      if (name == "metrics/mAP50-95") map = v;
    }
    std::printf("%s after %d epochs: mAP50 %.4f mAP50-95 %.4f, %.1f img/s, %.1fs; checkpoints in %s\n",
                r.cancelled ? "stopped" : "done", r.epochsCompleted, map50, map, r.imagesPerSec, r.seconds,
                runDir.c_str());
    return;
  }
  std::printf("%s after %d epochs: val top1 %.2f%% (best %.2f%%), %.0f img/s, %.1fs; checkpoints in %s\n",
              r.cancelled ? "stopped" : "done", r.epochsCompleted, 100 * r.last.valTop1, 100 * r.bestTop1,
              r.imagesPerSec, r.seconds, runDir.c_str());
}

// Checks made before any data or model loads.
void checkTrainArgs(const CommandLine& cl, TrainArgs& t) {
  checkAutopilotArgs(cl, t.autopilot, t.given.epochs);
  // The run's folder will be needed at the end of epoch 1.
  if (std::filesystem::exists(t.runDir) && !std::filesystem::is_directory(t.runDir))
    throw Error(t.runDir, "is a file, not a directory (--out names the run's folder)");
  if (cl.has("--nproc") && t.nproc < 1) throw UsageError("--nproc", "must be at least 1, got " + std::to_string(t.nproc));
  if (!(t.distTimeout > 0)) throw UsageError("--dist-timeout", "must be positive");
  if (t.teacher.empty()) {
    for (const char* o : {"--kd-weight", "--kd-temperature"})
      if (cl.has(o)) throw UsageError(o, "only applies with --teacher");
  } else {
    checkDistillOptions(t.kd);
  }
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
  TrainArgs t;
  CLI::App& a = cl.app();
  addScheduleOptions(a, t, data);
  addSparsityOptions(a, t);
  addParameterOptions(a, t);
  addDistillOptions(a, t);
  a.add_option("--out", t.runDir, "run directory (checkpoints, results.csv, log.jsonl)")->type_name("RUN_DIR")->required();
  a.add_flag("--resume", "continue the run in --out from its last checkpoint");
  addAutopilotOptions(cl, t.autopilot);
  addParallelOptions(a, t);
  cl.footer("\nTraining recipes (the task's defaults; the workbench's Train panel starts from the same):\n" +
            recipeSummary());
  if (!cl.parse(argc, argv)) return 0;
  checkTrainArgs(cl, t);
  const std::optional<DistEnv> distEnv = distEnvFromEnvironment();
  if (t.nproc > 1 && !distEnv) return launchLocalWorkers(t.nproc, argsWithoutNproc(argc, argv));
  // A worker (of --nproc, torchrun, Slurm...): only rank 0 prints; the others keep stderr.
  const int rank = distEnv ? distEnv->rank : 0;
  if (rank > 0 && !std::freopen("/dev/null", "w", stdout)) throw Error("stdout", "cannot silence rank " + std::to_string(rank));
  configureThreads(model.threads);
  const bool resuming = resumesRun(cl, t.runDir, rank);

  Session session;
  session.openData(data.spec);
  printDataReport(session.data());
  session.loadModelForData(model.request, resuming ? (std::filesystem::path(t.runDir) / "last.plm").string() : "",
                           /*transfer=*/true);
  const bool json = cl.has("--json");
  const ModelLoadReport& loaded = session.lastLoadReport();
  printLoadWarnings(loaded);
  if (!json)
    for (const std::string& line : loaded.lines()) std::printf("%s\n", line.c_str());
  const bool detect = session.data().task == TaskKind::Detect;
  TrainerOptions o = optionsFromArgs(session, cl, t, data, run);
  if (distEnv && distEnv->world > 1) joinDataParallel(o, *distEnv, t.distTimeout);
  if (!t.teacher.empty()) {
    o.teacher = session.loadTeacher(t.teacher);
    o.teacherName = "--teacher " + t.teacher;
    o.distill = t.kd;
  }

  auto control = std::make_shared<TrainControl>(t.sr, o.lr);
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
                session.data().description().c_str(), o.epochs, t.runDir.c_str());
  if (!json && o.teacher)
    std::printf("distilling from %s (kd weight %g, temperature %g)\n", t.teacher.c_str(), t.kd.weight, t.kd.temperature);
  const TrainResult r = session.train(req);
  g_control.reset();
  const GammaStats g = gammaStats(snapshotGammas(session.model()));
  if (json)
    printTrainJson(r, loaded, g, detect, t.runDir);
  else
    printTrainSummary(r, detect, t.runDir);
  return r.cancelled ? 130 : 0;
}

}  // namespace prunelab::cli
