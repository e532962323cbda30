#include "train/trainer.h"

#include "train/targeted_sparsity.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "data/data_loader.h"
#include "distributed/dist_group.h"
#include "distributed/grad_reducer.h"
#include "distributed/sync_batch_norm.h"
#include "exec/graph_module.h"
#include "graph/scope_pattern.h"
#include "io/checkpoint.h"
#include "io/state_dict.h"
#include "train/classification_task.h"
#include "train/fused_sgd.h"
#include "train/run_log.h"
#include "train/run_options.h"
#include "train/sr_pilot_driver.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab {

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Values the schedule and optimizer would take without complaint and then train wrongly:
// a negative warm-up (lr above the base from step 0), momentum >= 1 (the velocity never
// decays: the weights diverge) or < 0, validation every 0 epochs (read as every epoch).
void checkScheduleOptions(const TrainerOptions& o) {
  const double w = o.schedule.warmupEpochs;
  if (!std::isfinite(w) || w < 0) throw Error("--warmup", "must be zero or more epochs, got " + std::to_string(w));
  if (!std::isfinite(o.momentum) || o.momentum < 0 || o.momentum >= 1)
    throw Error("--momentum", "must be in [0, 1), got " + std::to_string(o.momentum));
  if (o.validateEvery < 1) throw Error("--val-every", "must be at least 1 epoch, got " + std::to_string(o.validateEvery));
}

}  // namespace

struct Trainer::Impl {
  std::shared_ptr<Graph> graph;
  std::shared_ptr<TrainTask> task;
  TrainerOptions opt;
  std::shared_ptr<TrainControl> control;
  double srStart = 0.0;  // the control's sr when run() started (recorded in options.json)
  std::vector<TrainObserver*> observers;

  GraphModule module{nullptr};
  GraphModule teacher{nullptr};  // distillation only: a private clone of opt.teacher
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<double> groupMultipliers;  // lr multiplier of each param group
  std::vector<NodeId> sparseTargets;
  std::unique_ptr<TargetedSparsity> targeted;  // SparsityOptions::targeted > 0
  std::unique_ptr<SrPilotDriver> pilot;  // always there; steers only with options.autopilot
  RunLog log;
  std::unique_ptr<GradReducer> reducer;  // data-parallel runs only

  int startEpoch = 0;
  int64_t globalStep = 0;
  double bestFitness = -1.0;

  void message(const std::string& m) {
    for (auto* o : observers) o->onMessage(m);
  }

  void buildOptimizer() {
    // Parameter groups by lr multiplier; frozen parameters get requires_grad = false.
    std::map<double, std::vector<at::Tensor>> groups;
    int64_t frozen = 0, trainable = 0;
    for (Node& n : graph->nodes())
      for (NamedTensor& t : n.tensors) {
        if (t.isBuffer) continue;
        const bool freeze = !task->trainable(n, t) || scopeMatchesAny(n.scope, opt.freeze) ||
                            (!opt.trainOnly.empty() && !scopeMatchesAny(n.scope, opt.trainOnly));
        t.tensor.set_requires_grad(!freeze);
        if (freeze) {
          frozen += t.tensor.numel();
          continue;
        }
        trainable += t.tensor.numel();
        double mult = 1.0;
        for (const auto& [pattern, m] : opt.lrMultipliers)
          if (scopeMatches(n.scope, pattern)) mult = m;
        groups[mult].push_back(t.tensor);
      }
    if (groups.empty()) throw Error("training", "every parameter is frozen (check --freeze / --train-only)");
    if (frozen) message("frozen " + std::to_string(frozen) + " parameters, training " + std::to_string(trainable));

    std::vector<torch::optim::OptimizerParamGroup> pg;
    groupMultipliers.clear();
    for (auto& [mult, params] : groups) {
      if (opt.optimizer == "sgd") {
        auto o = std::make_unique<torch::optim::SGDOptions>(opt.lr * mult);
        o->momentum(opt.momentum).nesterov(opt.nesterov && opt.momentum > 0).weight_decay(opt.weightDecay);
        pg.emplace_back(params, std::move(o));
      } else if (opt.optimizer == "adamw") {
        auto o = std::make_unique<torch::optim::AdamWOptions>(opt.lr * mult);
        o->weight_decay(opt.weightDecay);
        pg.emplace_back(params, std::move(o));
      } else {
        throw Error("--optimizer", "unknown optimizer '" + opt.optimizer + "' (sgd, adamw)");
      }
      groupMultipliers.push_back(mult);
    }
    if (opt.optimizer == "sgd")
      optimizer = std::make_unique<torch::optim::SGD>(pg, torch::optim::SGDOptions(opt.lr));
    else
      optimizer = std::make_unique<torch::optim::AdamW>(pg, torch::optim::AdamWOptions(opt.lr));
  }

  void setLr(double lr) {
    auto& groups = optimizer->param_groups();
    for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lr * groupMultipliers[i]);
  }

  std::string lastPath() const { return (fs::path(opt.runDir) / "last.plm").string(); }
  int rank() const { return opt.dist ? opt.dist->rank() : 0; }
  // Rank 0 alone writes runDir and validates.
  bool writes() const { return !opt.runDir.empty() && rank() == 0; }
  bool leads() const { return rank() == 0; }

  // Every rank starts from rank 0's state: weights and buffers (as DDP's constructor),
  // the optimizer's state and the progress of a resumed run (so a run resumes with any
  // world size, and only rank 0 needs to read last.plm).
  void startFromRankZero() {
    DistGroup& d = *opt.dist;
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> tensors = module->parameters();  // the graph's own tensors
    for (const at::Tensor& b : module->buffers()) tensors.push_back(b);
    d.broadcast(tensors, 0, "broadcasting rank 0's weights");
    at::Tensor bytes = leads() ? serializeOptimizer(*optimizer) : at::Tensor();
    std::vector<at::Tensor> size{at::full({1}, leads() ? bytes.numel() : 0, at::kLong)};
    d.broadcast(size, 0, "broadcasting the optimizer state");
    if (!leads()) bytes = at::empty({size[0].item<int64_t>()}, at::kByte);
    std::vector<at::Tensor> payload{bytes.view(at::kChar)};  // Gloo reduces no uint8; int8 has the same bytes
    d.broadcast(payload, 0, "broadcasting the optimizer state");
    if (!leads()) deserializeOptimizer(*optimizer, bytes, "rank 0's optimizer state");
    std::vector<at::Tensor> progress{
        at::tensor({double(startEpoch), double(globalStep), bestFitness}, at::TensorOptions().dtype(at::kDouble))};
    d.broadcast(progress, 0, "broadcasting the run's progress");
    startEpoch = static_cast<int>(progress[0][0].item<double>());
    globalStep = static_cast<int64_t>(progress[0][1].item<double>());
    bestFitness = progress[0][2].item<double>();
  }

  // What a run stopped by a divergence leaves: the end of its error message.
  std::string keptCheckpoint() const {
    if (opt.runDir.empty()) return "";
    if (!fs::exists(lastPath())) return " (no checkpoint had been written yet)";
    return ": the last good checkpoint " + lastPath() + " is intact";
  }

  // The state_dict key of the first parameter or buffer holding NaN/Inf, or "".
  static std::string firstNonFiniteTensor(const Graph& g) {
    at::NoGradGuard noGrad;
    for (const Node& n : g.nodes())
      for (const NamedTensor& t : n.tensors)
        if (t.tensor.defined() && t.tensor.is_floating_point() && !at::isfinite(t.tensor).all().item<bool>())
          return n.key(t.name);
    return "";
  }
  std::string bestPath() const { return (fs::path(opt.runDir) / "best.plm").string(); }

  void saveRunCheckpoint(const std::string& path, int epoch) {
    Checkpoint ck;
    ck.graph = graph->share();  // saveCheckpoint copies them out
    ck.info = {{"epoch", std::to_string(epoch)},
               {"global_step", std::to_string(globalStep)},
               {"best_fitness", std::to_string(bestFitness)},
               {"task", task->kind()},
               {"trainer_options", optionsToJson(opt, srStart).dump()}};
    ck.extraTensors["optimizer"] = serializeOptimizer(*optimizer);
    ck.extraTensors["rng"] = at::detail::getDefaultCPUGenerator().get_state();
    saveCheckpoint(path, ck);
  }

  void tryResume() {
    if (!opt.resume || opt.runDir.empty() || !fs::exists(lastPath())) return;
    const Checkpoint ck = loadCheckpoint(lastPath());
    loadStateDict(*graph, ck.graph.stateDict(), lastPath());
    if (ck.extraTensors.count("optimizer")) deserializeOptimizer(*optimizer, ck.extraTensors.at("optimizer"), lastPath());
    if (ck.extraTensors.count("rng")) {
      at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
      gen.set_state(ck.extraTensors.at("rng"));
    }
    startEpoch = std::stoi(ck.info.at("epoch")) + 1;
    globalStep = std::stoll(ck.info.at("global_step"));
    bestFitness = std::stod(ck.info.count("best_fitness") ? ck.info.at("best_fitness") : ck.info.at("best_top1"));
    log.truncateAfter(startEpoch - 1);
    message("resumed from " + lastPath() + " after epoch " + std::to_string(startEpoch) + "; continuing with epoch " +
            std::to_string(startEpoch + 1));
  }

  // Train metrics averaged over ranks (each read the same number of samples), images/s
  // summed; BN running statistics from rank 0 (what it validates and saves).
  void reduceEpoch(EpochStats& es) {
    DistGroup& d = *opt.dist;
    std::vector<double> v{es.trainLoss, es.trainTop1, es.imagesPerSec};
    for (const auto& m : es.taskMetrics) v.push_back(m.second);
    at::Tensor t = at::tensor(v, at::kDouble);
    d.allreduceSum(t, "reducing the epoch's metrics");
    const double w = d.world();
    es.trainLoss = t[0].item<double>() / w;
    es.trainTop1 = t[1].item<double>() / w;
    es.imagesPerSec = t[2].item<double>();
    for (size_t i = 0; i < es.taskMetrics.size(); ++i) es.taskMetrics[i].second = t[3 + int64_t(i)].item<double>() / w;
    at::NoGradGuard noGrad;
    std::vector<at::Tensor> buffers = module->buffers();
    d.broadcast(buffers, 0, "broadcasting rank 0's BN statistics");
  }

  void waitWhilePaused() {
    while (control->paused.load() && !control->cancelled.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // What one run() accumulates over its epochs.
  struct RunTotals {
    TrainResult result;
    int64_t images = 0;
    double trainSeconds = 0.0;
  };
  // What one epoch's steps leave for its EpochStats.
  struct EpochTotals {
    int64_t seen = 0;
    double sr = 0.0, lr = 0.0, dataWait = 0.0;
  };

  void checkRunOptions() {
    checkScheduleOptions(opt);
    if (opt.epochs <= 0) throw Error("--epochs", "must be positive");
    if (opt.batchSize <= 0) throw Error("--batch", "must be positive, got " + std::to_string(opt.batchSize));
    const double lr0 = control->lr.load();
    if (!std::isfinite(lr0) || lr0 <= 0) throw Error("--lr", "must be a positive number, got " + std::to_string(lr0));
    srStart = control->sr.load();
    if (!std::isfinite(srStart) || srStart < 0) throw Error("--sr", "must be zero or positive, got " + std::to_string(srStart));
    if (opt.syncBatchNorm && !opt.dist) throw Error("--sync-bn", "applies to data-parallel runs only (--nproc, WORLD_SIZE)");
    if (!(opt.sparsity.targeted >= 0.0 && opt.sparsity.targeted < 1.0))
      throw Error("--sr-targeted", "must be a fraction in [0, 1), got " + std::to_string(opt.sparsity.targeted));
  }

  // A private copy of the teacher: moving it to the device or running it never touches the caller's.
  void prepareTeacher(const torch::Device& device) {
    checkDistillOptions(opt.distill);
    auto copy = std::make_shared<Graph>(opt.teacher->clone());
    for (Node& n : copy->nodes())
      for (NamedTensor& t : n.tensors) t.tensor.set_requires_grad(false);
    teacher = GraphModule(copy);
    teacher->to(device);
    teacher->eval();  // BN running statistics, as the teacher was validated
  }

  void prepareSparsity() {
    sparseTargets = sparsityTargets(*graph, opt.sparsity);
    if (opt.sparsity.targeted > 0) targeted = std::make_unique<TargetedSparsity>(*graph, opt.sparsity.targeted);
    if (opt.autopilot.enabled()) {
      checkAutopilotOptions(opt.autopilot, opt.epochs);
      if (sparseTargets.empty())
        throw Error("--sparsity-target", "the model has no BatchNorm gammas under the L1 penalty to make sparse");
    }
    pilot = std::make_unique<SrPilotDriver>(opt.autopilot, control, *graph, sparseTargets,
                                            [this](const std::string& m) { message(m); });
  }

  // The module, teacher, optimizer, sparsity, run files (and a resume), the data-parallel group.
  void setUp(const torch::Device& device) {
    module = GraphModule(graph);
    module->to(device);
    module->setFrozenBatchNorm(opt.frozenBatchNorm);
    if (opt.dist && opt.syncBatchNorm) module->setCrossReplicaSum(makeCrossReplicaSum(opt.dist));
    task->prepare(*graph);
    if (opt.teacher) prepareTeacher(device);
    buildOptimizer();
    prepareSparsity();
    if (writes()) {
      createDirectories(opt.runDir);
      log.open(opt.runDir, opt.resume);
      writeFileAtomically((fs::path(opt.runDir) / "options.json").string(),
                          [&](std::ostream& os) { os << optionsToJson(opt, srStart).dump(1) << "\n"; });
      tryResume();
    }
    if (opt.dist) {
      startFromRankZero();
      std::vector<at::Tensor> params;
      for (auto& group : optimizer->param_groups())
        for (auto& p : group.params()) params.push_back(p);
      reducer = std::make_unique<GradReducer>(opt.dist, params, int64_t{25} << 20, opt.overlapGradReduce);
    }
    pilot->openTrace(writes() ? opt.runDir : std::string(), startEpoch);
  }

  LoaderOptions trainLoaderOptions() const {
    LoaderOptions lo;
    lo.batchSize = opt.batchSize;
    lo.seed = opt.seed;
    lo.workers = opt.workers;
    lo.augment = opt.augment;
    if (opt.dist) {
      lo.rank = opt.dist->rank();
      lo.world = opt.dist->world();
    }
    return lo;
  }

  // Rank 0 validates everything, in order, as it is.
  LoaderOptions valLoaderOptions() const {
    LoaderOptions lo = trainLoaderOptions();
    lo.rank = 0;
    lo.world = 1;
    lo.shuffle = false;
    lo.augment = false;
    lo.batchSize = task->valBatchSize(opt.batchSize);
    return lo;
  }

  // The autopilot's metric guard compares to the model as it starts.
  void measureGuardReference(DataLoader& valLoader) {
    if (!leads() || !pilot->enabled() || opt.autopilot.metricMargin <= 0 || !control->autopilot.load()) return;
    EpochStats before;
    task->validate(*module, valLoader, opt.device, startEpoch, before);
    pilot->setReference(before.fitness);
    char line[96];
    std::snprintf(line, sizeof line, "sr autopilot: validation metric %.4f before training (the guard's reference)",
                  before.fitness);
    message(line);
  }

  // Rank 0's live values (its slider, its autopilot, its Stop) for every rank, at the same step.
  void shareLiveValues(double& baseLr, double& baseSr, bool& cancelled) {
    std::vector<at::Tensor> live{at::tensor({baseLr, baseSr, cancelled ? 1.0 : 0.0}, at::kDouble)};
    opt.dist->broadcast(live, 0, "sharing rank 0's lr, sr and stop");
    const double* v = live[0].data_ptr<double>();
    baseLr = v[0];
    baseSr = v[1];
    cancelled = v[2] != 0.0;
  }

  // Forward, loss (distilled when there is a teacher), checked finite on every rank.
  std::pair<at::Tensor, double> forwardLoss(const at::Tensor& x, const Batch& batch, const StepStats& s, double sr) {
    const auto outs = module->forward(std::vector<at::Tensor>{x});
    std::optional<DistillTargets> kd;
    if (teacher) {
      at::NoGradGuard noGrad;
      // A teacher that cannot read the student's input fails here, named.
      kd = DistillTargets{withErrorContext(opt.teacherName, [&] { return teacher->forward(std::vector<at::Tensor>{x}); }),
                          opt.distill};
      checkTeacherOutputs(outs, kd->teacher, opt.teacherName);
    }
    at::Tensor loss = task->loss(outs, batch, kd ? &*kd : nullptr);
    double lossValue = loss.item<double>();
    if (opt.dist) {  // the global batch's loss: every rank stops on a NaN together
      at::Tensor sum = at::tensor({lossValue}, at::kDouble);
      opt.dist->allreduceSum(sum, "reducing the loss");
      lossValue = sum.item<double>() / opt.dist->world();
    }
    if (!std::isfinite(lossValue))
      throw Error("training", "loss is " + std::to_string(lossValue) + " at epoch " + std::to_string(s.epoch + 1) +
                                  ", batch " + std::to_string(s.batch + 1) + " (lr " + std::to_string(s.lr) + ", sr " +
                                  std::to_string(sr) + "); stopped without saving" + keptCheckpoint());
    return {loss, lossValue};
  }

  // Backward (gradients averaged over ranks), the BN-L1 subgradient, the optimizer step.
  void backwardAndStep(const at::Tensor& loss, double sr) {
    if (reducer) reducer->prepare();
    loss.backward();
    if (reducer) reducer->finish();  // the mean gradient over ranks, before the penalty
    if (targeted && sr != 0.0)
      applyMaskedBnL1(*graph, targeted->masks(*graph), sr, opt.sparsity.srBeta);
    else
      applyBnL1(*graph, sparseTargets, sr, opt.sparsity.srBeta);
    if (auto* sgd = dynamic_cast<torch::optim::SGD*>(optimizer.get()))
      fusedSgdStep(*sgd);
    else
      optimizer->step();
  }

  void reportStep(StepStats& s, double lossValue, double sr, int64_t n, double dt, double progress) {
    if (observers.empty()) return;
    s.loss = lossValue;
    s.sr = sr;
    s.imagesPerSec = double(n) / std::max(dt, 1e-9);
    for (auto* o : observers) o->onStep(s);
    if (opt.gammaEvery > 0 && (globalStep - 1) % opt.gammaEvery == 0) {
      const GammaSnapshot g = snapshotGammas(*graph, globalStep - 1, progress);
      for (auto* o : observers) o->onGammas(g);
    }
  }

  // One training step on `batch`; false when the run was cancelled before it.
  bool step(const Batch& batch, int epoch, int64_t b, int64_t batches, Clock::time_point stepStart, EpochTotals& e,
            RunTotals& run) {
    waitWhilePaused();
    bool cancelled = control->cancelled.load();
    double baseLr = control->lr.load();
    const double progress = epoch + double(b) / double(batches);
    const double factor = lrFactor(opt.schedule, progress, opt.epochs);
    StepStats s{epoch, globalStep, b, batches, 0.0, baseLr * factor, 0.0, 0.0};
    if (leads()) pilot->beforeStep(globalStep, progress, baseLr * factor, double(batches), s);
    double baseSr = control->sr.load();
    if (opt.dist) shareLiveValues(baseLr, baseSr, cancelled);
    e.lr = s.lr = baseLr * factor;
    if (cancelled) return false;
    setLr(e.lr);
    run.result.srMovedLive |= baseSr != srStart;
    run.result.srEnd = baseSr;
    e.sr = effectiveSr(opt.sparsity, baseSr, epoch, opt.epochs);

    const auto x = batch.images.to(torch::Device(opt.device));
    // Drop the gradients rather than zero them (LibTorch 1.13's zero_grad() memsets
    // each one; Python's zero_grad(set_to_none=True) skips that work too).
    for (auto& group : optimizer->param_groups())
      for (auto& p : group.params()) p.mutable_grad().reset();
    const auto [loss, lossValue] = forwardLoss(x, batch, s, e.sr);
    backwardAndStep(loss, e.sr);

    const int64_t n = x.size(0);
    e.seen += n;
    ++globalStep;
    const double dt = secondsSince(stepStart);
    run.trainSeconds += dt;
    run.images += n;
    reportStep(s, lossValue, e.sr, n, dt, progress);
    return true;
  }

  // The steps of one epoch; false when cancelled.
  bool trainEpoch(int epoch, DataLoader& trainLoader, EpochTotals& e, RunTotals& run) {
    module->train();
    trainLoader.startEpoch(epoch);
    task->beginEpoch();
    const int64_t batches = static_cast<int64_t>(trainLoader.batchesPerEpoch());
    Batch batch;
    for (int64_t b = 0;; ++b) {
      const auto stepStart = Clock::now();
      if (!trainLoader.next(batch)) return true;
      e.dataWait += secondsSince(stepStart);
      if (!step(batch, epoch, b, batches, stepStart, e, run)) return false;
    }
  }

  // The epoch's stats: train metrics, validation (every validateEvery epochs and after the
  // last; an epoch without it logs empty cells and cannot become best.plm), γ statistics.
  EpochStats epochStats(int epoch, DataLoader& valLoader, const EpochTotals& e, Clock::time_point epochStart) {
    EpochStats es;
    es.epoch = epoch;
    es.epochs = opt.epochs;
    es.task = task->kind();
    task->endEpoch(es);
    const double trainSeconds = std::max(secondsSince(epochStart), 1e-9);
    es.imagesPerSec = double(e.seen) / trainSeconds;
    if (opt.dist) reduceEpoch(es);
    es.dataWaitFraction = e.dataWait / trainSeconds;
    const bool validate = (epoch + 1) % std::max(1, opt.validateEvery) == 0 || epoch + 1 == opt.epochs;
    es.validated = validate && leads();
    if (es.validated) task->validate(*module, valLoader, opt.device, epoch, es);
    es.lr = e.lr;
    es.sr = e.sr;
    es.seconds = secondsSince(epochStart);
    es.gamma = gammaStats(snapshotGammas(*graph));
    if (leads()) pilot->endEpoch(es, epoch + 1.0);
    es.best = es.validated && es.fitness > bestFitness;
    if (es.best) bestFitness = es.fitness;
    return es;
  }

  // After the steps: weights checked finite, a γ snapshot, stats, files, observers.
  void finishEpoch(int epoch, DataLoader& valLoader, const EpochTotals& e, Clock::time_point epochStart,
                   RunTotals& run) {
    // The loss is checked before each step; the step itself can still overflow the
    // weights (the epoch's last one, whose result no loss has seen). Such weights must
    // neither be validated nor saved over the last good checkpoint.
    if (const std::string bad = firstNonFiniteTensor(*graph); !bad.empty())
      throw Error("training", "weights became NaN/Inf at epoch " + std::to_string(epoch + 1) + " (" + bad +
                                  ", after step " + std::to_string(globalStep) + ", lr " + std::to_string(e.lr) +
                                  "); stopped without saving" + keptCheckpoint());
    // And one at every epoch's end: with few steps per epoch the step period alone
    // would leave the histogram and its time axis at the first step.
    if (!observers.empty() && opt.gammaEvery > 0) {
      const GammaSnapshot g = snapshotGammas(*graph, globalStep, double(epoch + 1));
      for (auto* o : observers) o->onGammas(g);
    }
    EpochStats es = epochStats(epoch, valLoader, e, epochStart);
    if (writes()) {
      log.append(es);  // the log first: a crash before the checkpoint replays this epoch
      if (es.best) saveRunCheckpoint(bestPath(), epoch);
      saveRunCheckpoint(lastPath(), epoch);
    }
    if (es.validated && opt.epochProbe) {
      try {
        opt.epochProbe(graph, es);
      } catch (const std::exception& ex) {
        message(std::string("epoch probe: ") + ex.what());
      }
    }
    for (auto* o : observers) o->onEpoch(es);
    run.result.last = es;
    run.result.epochsCompleted = epoch + 1;
  }

  TrainResult run() {
    checkRunOptions();
    const auto started = Clock::now();
    setUp(torch::Device(opt.device));
    DataLoader trainLoader(task->trainSource(opt.seed, opt.epochs), trainLoaderOptions());
    DataLoader valLoader(task->valSource(opt.seed), valLoaderOptions());
    measureGuardReference(valLoader);

    RunTotals run;
    run.result.srStart = run.result.srEnd = srStart;
    run.result.distilled = static_cast<bool>(teacher);
    for (int epoch = startEpoch; epoch < opt.epochs; ++epoch) {
      const auto epochStart = Clock::now();
      EpochTotals e;
      if (!trainEpoch(epoch, trainLoader, e, run)) {
        run.result.cancelled = true;
        break;
      }
      finishEpoch(epoch, valLoader, e, epochStart, run);
    }
    TrainResult& result = run.result;
    result.bestFitness = std::max(0.0, bestFitness);
    result.bestTop1 = task->kind() == "classify" ? result.bestFitness : 0.0;
    result.seconds = secondsSince(started);
    result.imagesPerSec = double(run.images) / std::max(run.trainSeconds, 1e-9);
    if (opt.dist) {  // the group's images/s: every rank's share, summed
      at::Tensor rate = at::tensor({result.imagesPerSec}, at::kDouble);
      opt.dist->allreduceSum(rate, "reducing images/s");
      result.imagesPerSec = rate.item<double>();
    }
    return result;
  }
};

Trainer::Trainer(std::shared_ptr<Graph> graph, DatasetSplits data, TrainerOptions options,
                 std::shared_ptr<TrainControl> control)
    : Trainer(std::move(graph),
              std::make_shared<ClassificationTask>(std::move(data), options.trainTransform, options.evalTransform,
                                                   options.labelSmoothing),
              options, std::move(control)) {}

Trainer::Trainer(std::shared_ptr<Graph> graph, std::shared_ptr<TrainTask> task, TrainerOptions options,
                 std::shared_ptr<TrainControl> control)
    : m(std::make_unique<Impl>()) {
  if (!graph) throw Error("trainer", "no graph");
  if (!task) throw Error("trainer", "no task");
  m->graph = std::move(graph);
  m->task = std::move(task);
  m->opt = std::move(options);
  m->control = control ? std::move(control) : std::make_shared<TrainControl>(0.0, m->opt.lr);
}

Trainer::~Trainer() = default;

void Trainer::addObserver(TrainObserver* observer) { m->observers.push_back(observer); }

TrainResult Trainer::run() { return m->run(); }

}  // namespace prunelab
