#include "session/iterative_prune.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "graph/input_shape.h"
#include "io/checkpoint.h"
#include "session/session.h"
#include "util/error.h"

namespace prunelab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMaxSteps = 100;  // as runPruning's --steps: each step re-scores (and here trains) the whole model

// Checkpoint info keys of step-k.plm and step-k/cut.plm.
constexpr const char* kScheduleKey = "iterative_schedule";
constexpr const char* kStepsKey = "iterative_steps";    // every step's report up to this one
constexpr const char* kOriginalKey = "iterative_original";  // the original model's metric

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

bool targetMode(const PruneRequest& r) {
  return r.mode == PruneRequest::Mode::TargetMacs || r.mode == PruneRequest::Mode::TargetParams;
}

// Modes whose plan is made in one go cannot be spread over cuts with training between.
void checkRequest(const Session& session, const PruneRequest& r, const IterativePruneOptions& o) {
  const std::string how = "plans in one step; pruning with fine-tuning between the cuts takes --percent, --ratios, "
                          "--target-macs or --target-params";
  if (r.mode == PruneRequest::Mode::LayerAmount) throw Error("--layer", how);
  if (r.sensitivity) throw Error("--from-sensitivity", how);
  if (r.mode == PruneRequest::Mode::TargetLatency) throw Error("--target-latency", how);
  if (o.steps < 1 || o.steps > kMaxSteps)
    throw Error("--steps", "must be between 1 and " + std::to_string(kMaxSteps) + ", got " + std::to_string(o.steps));
  if (o.training.epochs < 1)
    throw Error("--fine-tune-epochs", "must be at least 1, got " + std::to_string(o.training.epochs));
  if (o.runDir.empty()) throw Error("--run-dir", "is required: each step's model and training run are kept there");
  if (fs::exists(o.runDir) && !fs::is_directory(o.runDir)) throw Error(o.runDir, "is a file, not a directory (--run-dir)");
  if (!session.hasData()) throw Error("--data", "is required: the model is trained after each cut");
}

int64_t costOf(const GraphCost& c, const PruneRequest& r) {
  return r.mode == PruneRequest::Mode::TargetParams ? c.params : c.macs;
}

GraphCost costAt(const Graph& graph, const Shape& input) {
  Graph g = graph.share();
  inferShapes(g, input);
  return computeCost(g);
}

// What a resumed run must agree on with the files it continues.
json scheduleJson(const PruneRequest& r, int steps, int64_t startCost) {
  json target;
  std::string mode;
  switch (r.mode) {
    case PruneRequest::Mode::GlobalPercent: mode = "percent"; target = r.amount; break;
    case PruneRequest::Mode::Ratios:
      mode = "ratios";
      target = json::object();
      for (const auto& [pattern, ratio] : r.ratios) target[pattern] = ratio;
      target["default"] = r.fallbackRatio;
      break;
    case PruneRequest::Mode::TargetMacs: mode = "target-macs"; target = r.target; break;
    case PruneRequest::Mode::TargetParams: mode = "target-params"; target = r.target; break;
    default: break;  // refused by checkRequest
  }
  return {{"steps", steps}, {"start_cost", startCost}, {"mode", mode}, {"target", target}};
}

// An error naming `file` and the first field in which its schedule differs from `want`.
void checkSchedule(const std::string& file, const Checkpoint& ck, const json& want) {
  const auto it = ck.info.find(kScheduleKey);
  if (it == ck.info.end()) throw Error(file, "is not a step of an iterative pruning run (no schedule in it)");
  const json have = json::parse(it->second);
  for (const char* key : {"mode", "target", "steps", "start_cost"}) {
    if (have.value(key, json()) == want.at(key)) continue;
    const std::string what = std::string(key) == "start_cost" ? "start cost (the original model's " +
                                                                    std::string(want.at("mode") == "target-params"
                                                                                    ? "params)" : "MACs)")
                                                              : key;
    throw Error(file, "belongs to another schedule: " + what + " " + have.value(key, json()).dump() +
                          " there, " + want.at(key).dump() + " now (start again in another --run-dir, or repeat "
                          "that run's options)");
  }
}

json metricJson(const Metric& m) { return {{"name", m.name}, {"value", m.value}}; }
Metric metricFrom(const json& j) { return {j.value("name", ""), j.value("value", 0.0)}; }

json stepJson(const IterativeStepReport& s) {
  return {{"step", s.step},           {"steps", s.steps},           {"cut", s.cut},
          {"aim", s.aim},             {"channels_removed", s.channelsRemoved},
          {"macs", s.macs},           {"params", s.params},         {"after_cut", metricJson(s.afterCut)},
          {"after_training", metricJson(s.afterTraining)},        {"epochs", s.epochs},
          {"cut_seconds", s.cutSeconds}, {"train_seconds", s.trainSeconds}, {"checkpoint", s.checkpoint}};
}

IterativeStepReport stepFrom(const json& j) {
  IterativeStepReport s;
  s.step = j.at("step");
  s.steps = j.at("steps");
  s.cut = j.value("cut", true);
  s.aim = j.value("aim", int64_t(0));
  s.channelsRemoved = j.value("channels_removed", int64_t(0));
  s.macs = j.value("macs", int64_t(0));
  s.params = j.value("params", int64_t(0));
  s.afterCut = metricFrom(j.value("after_cut", json::object()));
  s.afterTraining = metricFrom(j.value("after_training", json::object()));
  s.epochs = j.value("epochs", 0);
  s.cutSeconds = j.value("cut_seconds", 0.0);
  s.trainSeconds = j.value("train_seconds", 0.0);
  s.checkpoint = j.value("checkpoint", "");
  return s;
}

// What runs between the steps: the request, its schedule and everything done so far.
struct Run {
  Session& session;
  const PruneRequest& request;
  const IterativePruneOptions& options;
  Shape input;
  json schedule;
  IterativePruneResult result;

  fs::path stepFile(int k) const { return fs::path(options.runDir) / ("step-" + std::to_string(k) + ".plm"); }
  fs::path stepDir(int k) const { return fs::path(options.runDir) / ("step-" + std::to_string(k)); }
  void message(const std::string& m) const {
    if (options.onMessage) options.onMessage(m);
  }

  // The checkpoint of the current model with the run's state (steps = reports so far).
  void save(const fs::path& path, const std::vector<IterativeStepReport>& steps) const {
    Checkpoint ck;
    ck.graph = session.model().share();
    ck.info["surgery_log"] = surgeryLogJson(result.log);
    ck.info[kScheduleKey] = schedule.dump();
    json all = json::array();
    for (const IterativeStepReport& s : steps) all.push_back(stepJson(s));
    ck.info[kStepsKey] = all.dump();
    ck.info[kOriginalKey] = metricJson(result.original).dump();
    saveCheckpoint(path.string(), ck);
  }

  // Makes `path`'s model the current one (shapes at the run's input) and reads its state.
  std::vector<IterativeStepReport> adopt(const fs::path& path, const std::string& label) {
    Checkpoint ck = loadCheckpoint(path.string());
    checkSchedule(path.string(), ck, schedule);
    result.log = surgeryLogFromJson(ck.info.count("surgery_log") ? ck.info.at("surgery_log") : "[]", path.string());
    if (ck.info.count(kOriginalKey)) result.original = metricFrom(json::parse(ck.info.at(kOriginalKey)));
    std::vector<IterativeStepReport> steps;
    if (ck.info.count(kStepsKey))
      for (const json& j : json::parse(ck.info.at(kStepsKey))) steps.push_back(stepFrom(j));
    inferShapes(ck.graph, input);
    session.history().push(std::move(ck.graph), label, true);
    return steps;
  }

  Metric validate() { return session.validate(session.history().currentPtr(), options.task); }

  int resume();
  IterativeStepReport cut(int k);
  bool train(int k, IterativeStepReport& step);
};

// The highest step-k.plm in the run directory: 0 when there is none (a fresh start).
int highestStep(const std::string& runDir) {
  if (!fs::is_directory(runDir)) return 0;
  static const std::regex name(R"(step-([0-9]+)\.plm)");
  int highest = 0;
  for (const auto& e : fs::directory_iterator(runDir)) {
    std::smatch m;
    const std::string file = e.path().filename().string();
    if (std::regex_match(file, m, name)) highest = std::max(highest, std::stoi(m[1].str()));
  }
  return highest;
}

// Continues after the highest step-k.plm: its model becomes the current one.
int Run::resume() {
  const int k = highestStep(options.runDir);
  if (k == 0) return 0;
  const fs::path file = stepFile(k);
  if (k > options.steps)
    throw Error(file.string(), "belongs to another schedule: step " + std::to_string(k) + " of a run of more than " +
                                   std::to_string(options.steps) + " steps");
  const std::vector<IterativeStepReport> done =
      adopt(file, "step " + std::to_string(k) + "/" + std::to_string(options.steps) + " (resumed from " +
                      file.string() + ")");
  result.resumedAfter = k;
  message(k == options.steps ? "resumed: all " + std::to_string(k) + " steps were done (" + file.string() + ")"
                             : "resumed at step " + std::to_string(k + 1) + " from " + file.string());
  for (IterativeStepReport s : done) {
    s.fromCheckpoint = true;
    s.checkpoint = stepFile(s.step).string();  // as this run names the folder
    result.steps.push_back(s);
    if (options.onStep) options.onStep(s);
  }
  return k;
}

// Step k's cut (or, with step-k/cut.plm from an interrupted run, that cut read back).
IterativeStepReport Run::cut(int k) {
  const int n = options.steps;
  const std::string label = "step " + std::to_string(k) + "/" + std::to_string(n);
  const fs::path cutFile = stepDir(k) / "cut.plm";
  if (fs::exists(cutFile)) {
    std::vector<IterativeStepReport> steps = adopt(cutFile, label + ": cut (resumed from " + cutFile.string() + ")");
    if (steps.empty() || steps.back().step != k) throw Error(cutFile.string(), "holds no report of step " + std::to_string(k));
    message("resumed step " + std::to_string(k) + " after its cut (" + cutFile.string() + ")");
    return steps.back();
  }
  const auto t0 = std::chrono::steady_clock::now();
  IterativeStepReport s;
  s.step = k;
  s.steps = n;
  PruneRequest whole = request;
  whole.steps = n;  // the options' N cuts, not the request's own steps
  PruneRequest r = scheduledStep(whole, k - 1, schedule.at("start_cost"));
  if (targetMode(r)) {
    s.aim = r.target;
    s.cut = costOf(costAt(session.model(), input), r) > s.aim;  // a step already at its aim only trains
  }
  if (s.cut) {
    // Scores of the model as it is now: data criteria see its activations and gradients.
    if (needsCalibration(r.importance.criterion) || r.reconstruct) {
      r.importance.calibration.clear();
      r.importance.labels.clear();
      r.importance.loss = nullptr;
      session.calibrate(r.importance, options.calibration, input);
    }
    const PruneOutcome out = session.prune(r, label + ": cut");
    result.log.insert(result.log.end(), out.log.begin(), out.log.end());
    for (const LayerChannels& l : out.layers) s.channelsRemoved += l.before - l.after;
  }
  const GraphCost c = costAt(session.model(), input);
  s.macs = c.macs;
  s.params = c.params;
  s.afterCut = validate();
  s.cutSeconds = seconds(t0);
  s.checkpoint = stepFile(k).string();
  std::vector<IterativeStepReport> all = result.steps;
  all.push_back(s);
  fs::create_directories(stepDir(k));
  save(cutFile, all);
  return s;
}

// Step k's training, continuing step-k/last.plm when an earlier run left one. False when
// it was cancelled.
bool Run::train(int k, IterativeStepReport& step) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path last = stepDir(k) / "last.plm";
  const std::string label = "step " + std::to_string(k) + "/" + std::to_string(options.steps) + ": trained";
  if (fs::exists(last)) {
    const Checkpoint ck = loadCheckpoint(last.string());
    const auto epoch = ck.info.find("epoch");
    if (epoch != ck.info.end() && std::stoi(epoch->second) + 1 >= options.training.epochs) {
      // Its training finished before step-k.plm was written: nothing is left to train.
      Graph g = ck.graph.share();
      inferShapes(g, input);
      session.history().push(std::move(g), label + " (" + last.string() + ")");
      message("step " + std::to_string(k) + ": its training had finished (" + last.string() + ")");
      step.epochs = options.training.epochs;
      step.trainSeconds = seconds(t0);
      return true;
    }
  }
  TrainSettings settings = options.training;
  settings.runDir = stepDir(k).string();
  auto control = std::make_shared<TrainControl>(settings.sr, settings.lr);
  SessionTrainRequest req = session.trainRequest(settings, control);
  req.options.resume = true;  // the trainer continues last.plm when there is one
  req.options.seed = session.data().spec.seed;
  req.observers = options.observers;
  req.task = options.task;
  req.label = label + " " + std::to_string(settings.epochs) + " epochs";
  if (options.onTrainStart) options.onTrainStart(k, control);
  const TrainResult r = session.train(req);
  step.epochs = r.epochsCompleted;
  step.trainSeconds = seconds(t0);
  return !r.cancelled;
}

}  // namespace

IterativePruneResult pruneIteratively(Session& session, const PruneRequest& request,
                                      const IterativePruneOptions& options) {
  checkRequest(session, request, options);
  Run run{session, request, options, request.inputShape.empty() ? defaultInputShape(session.model()) : request.inputShape,
          json(), IterativePruneResult{}};
  const GraphCost start = costAt(session.model(), run.input);
  run.result.startMacs = start.macs;
  run.result.startParams = start.params;
  const int64_t startCost = costOf(start, request);
  if (targetMode(request) && (request.target <= 0 || request.target >= startCost))
    throw Error(request.mode == PruneRequest::Mode::TargetParams ? "--target-params" : "--target-macs",
                "must be between 0 and the current " + std::to_string(startCost));
  run.schedule = scheduleJson(request, options.steps, startCost);
  run.result.schedule = run.schedule.dump();
  // The original model's cost is the schedule's C0 even when a resume loads a cut model.
  const int done = run.resume();
  if (done == 0) {
    run.result.original = run.validate();
    fs::create_directories(options.runDir);
  }
  for (int k = done + 1; k <= options.steps; ++k) {
    IterativeStepReport step = run.cut(k);
    if (!run.train(k, step)) {
      run.result.cancelled = true;
      return std::move(run.result);
    }
    step.afterTraining = run.validate();
    run.result.steps.push_back(step);
    run.save(run.stepFile(k), run.result.steps);
    if (options.onStep) options.onStep(step);
  }
  return std::move(run.result);
}

}  // namespace prunelab
