#include "session/session.h"

#include "session/pruned_now.h"

#include <filesystem>
#include <sstream>

#include "analysis/shape_inference.h"
#include "data/transforms.h"
#include "graph/input_shape.h"
#include "models/yolo/yolo_checkpoint.h"
#include "detect/yolo_head.h"
#include "data/cached_batch_source.h"
#include "data/dataset.h"
#include "pruning/dependency_graph.h"
#include "pruning/importance.h"
#include "util/error.h"

namespace prunelab {

void Session::loadModel(const ModelRequest& request, int64_t imageSize) {
  if (imageSize > 0 && imageSize % 32 != 0)
    throw Error("image size", std::to_string(imageSize) + " is not a multiple of 32");
  ModelLoadReport report;
  Graph g = prunelab::loadModel(request, &report);
  adopt(std::move(g), imageSize, request.model, std::move(report));
  m_loaded = request;
  m_loadedImageSize = imageSize;
}

void Session::adopt(Graph g, int64_t imgsz, const std::string& asked, ModelLoadReport report) {
  // Shapes (hence MACs, the what-if and the latency) at the input the model will see.
  Shape chw = defaultInputShape(g);
  if (imgsz > 0) {
    chw = {chw.at(0), imgsz, imgsz};
    g.metadata()["input"] = shapeToString(chw);
  }
  withErrorContext(asked, [&] { inferShapes(g, chw); });  // errors name the model and the node
  m_history.reset(std::move(g), "loaded " + asked);
  m_lastLoad = std::move(report);
}

void Session::loadModelForData(ModelRequest request, const std::string& resumeFrom, bool transfer) {
  const OpenedData& d = data();
  const std::string asked = request.model;
  if (!resumeFrom.empty()) {
    request.model = resumeFrom;  // the structure of the run being resumed (it may be pruned)
    request.weights.clear();
    request.numClasses = -1;
  } else if (request.numClasses < 0) {
    request.numClasses = d.numClasses();
  }
  if (request.inChannels < 0) request.inChannels = d.channels();
  ModelLoadReport report;
  Graph g = prunelab::loadModel(request, &report);
  if (report.transfer && !transfer && !request.transfer)
    throw Error(asked, "was made for " + std::to_string(report.sourceClasses) + " classes, the data has " +
                           std::to_string(d.numClasses()) + " (train transfers the matching weights; here they must all fit)");
  const auto& meta = g.metadata();
  if (meta.count("num_classes") && std::stoll(meta.at("num_classes")) != d.numClasses())
    throw Error(asked, "has " + meta.at("num_classes") + " classes, the data has " + std::to_string(d.numClasses()));
  // A detector made for this data carries its class names from here on (checkpoints,
  // predict's labels, the Detections view); names a checkpoint brought are kept.
  if (d.task == TaskKind::Detect && classNames(g).empty() && d.det.val) setClassNames(g, d.det.val->classNames());
  // A classifier sees --imgsz x --imgsz images; a detector its own input size.
  adopt(std::move(g), d.task == TaskKind::Classify ? d.spec.input.imgsz : 0, asked, std::move(report));
  m_loaded = {};  // built for the data already
}

std::shared_ptr<const Graph> Session::loadTeacher(const std::string& path) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error("--teacher", path + ": no such file (the teacher is a trained model file)");
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml")
    throw Error("--teacher", path + ": a model config holds no trained weights; give a .plm, .onnx or .pt");
  const Shape input = defaultInputShape(m_history.current());
  return withErrorContext("--teacher", [&] {
    ModelRequest r;
    r.model = path;
    auto g = std::make_shared<Graph>(prunelab::loadModel(r));
    withErrorContext(path, [&] { inferShapes(*g, input); });  // a teacher that cannot read the input fails here
    return std::shared_ptr<const Graph>(std::move(g));
  });
}

bool Session::openData(const DataSpec& spec, bool fitModelClasses) {
  m_data.reset();  // a failed open leaves no half-open data behind
  m_data = prunelab::openData(spec);
  return fitModelClasses && adaptToDataClasses();
}

bool Session::adaptToDataClasses() {
  if (m_history.size() != 1 || m_loaded.model.empty() || m_data->task != TaskKind::Detect) return false;
  const auto& meta = m_history.current().metadata();
  const auto classes = meta.find("num_classes");
  if (!meta.count("source") || classes == meta.end() || classes->second == std::to_string(m_data->numClasses()))
    return false;
  ModelRequest request = m_loaded;
  request.numClasses = m_data->numClasses();
  loadModel(request, m_loadedImageSize);
  return true;
}

const OpenedData& Session::data() const {
  if (!m_data) throw Error("data", "no dataset opened");
  return *m_data;
}

TrainerOptions Session::trainerOptions(int epochs, const std::string& optimizer) const {
  TaskKind task = TaskKind::Classify;
  if (m_data) task = m_data->task;
  else if (!m_history.empty() && detect::isDetector(m_history.current())) task = TaskKind::Detect;
  const TrainRecipe r = trainRecipe(task, optimizer, epochs);
  TrainerOptions o;
  o.epochs = epochs;
  o.optimizer = optimizer;
  o.batchSize = r.batch;
  o.lr = r.lr;
  o.momentum = r.momentum;
  o.nesterov = r.nesterov;
  o.weightDecay = r.weightDecay;
  o.schedule.warmupEpochs = r.warmupEpochs;
  return o;
}

std::shared_ptr<TrainTask> Session::makeTask(const Graph& graph, int64_t trainBatch, const TaskSettings& settings) const {
  return makeTrainTask(data(), graph, settings, trainBatch);
}

EvalReport Session::evaluate(const EvalRequest& request) {
  return evaluateOnData(data(), m_history.currentPtr(), request);
}

Metric Session::validate(const std::shared_ptr<Graph>& graph, const TaskSettings& settings,
                         const std::string& device) const {
  EvalRequest r;
  r.task = settings;
  r.device = device;
  return evaluateOnData(data(), graph, r).headline();
}

LatencyTable Session::latencyTable(LatencyTableRequest request) const {
  if (request.name.empty()) request.name = m_history.currentLabel();
  return obtainLatencyTable(m_history.current(), request);
}

std::string Session::calibrate(ImportanceOptions& io, const CalibrationOptions& options, const Shape& input) const {
  const Graph& g = m_history.current();
  const Shape chw = input.empty() ? defaultInputShape(g) : input;
  return loadCalibration(m_data ? &*m_data : nullptr, g, chw, options, io);
}

Session::Scores Session::importance(ImportanceOptions io) const {
  Scores s;
  if (needsCalibration(io.criterion) && io.calibration.empty()) s.calibratedOn = calibrate(io, CalibrationOptions{});
  const DependencyGraph deps(m_history.current());
  s.groups = computeImportance(deps, io);
  return s;
}

SessionTrainRequest Session::trainRequest(const TrainSettings& s, std::shared_ptr<TrainControl> control) const {
  SessionTrainRequest req;
  req.options = trainerOptions(s.epochs);
  req.options.batchSize = s.batch;
  req.options.lr = s.lr;
  req.options.sparsity.linearDecay = s.srDecay;
  req.options.sparsity.targeted = s.srTargeted;
  req.options.sparsity.srBeta = s.srBeta;
  req.options.gammaEvery = s.gammaEvery;
  req.options.runDir = s.runDir;
  req.options.autopilot = s.autopilot;
  req.control = std::move(control);
  req.prunedNowPercent = s.prunedNowPercent;
  req.distillFromBaseline = s.distill;
  if (s.distill) req.options.distill = s.kd;
  return req;
}

TrainResult Session::train(const SessionTrainRequest& request) {
  if (!request.control) throw Error("train", "no TrainControl for the run");
  auto graph = std::make_shared<Graph>(model().clone());
  auto task = makeTask(*graph, request.options.batchSize, request.task);
  if (request.onStart) request.onStart(graph, task);
  TrainerOptions options = request.options;
  if (request.distillFromBaseline) {
    // The trainer clones the teacher, so the history's copy stays as it is.
    const int base = m_history.baseline();
    options.teacher = m_history.at(base);
    options.teacherName = "distil from the original (" + m_history.label(base) + ")";
  }
  if (request.prunedNowPercent > 0) {
    const double percent = request.prunedNowPercent;
    options.epochProbe = [task, percent](const std::shared_ptr<Graph>& trained, EpochStats& stats) {
      const Metric m = prunedNowMetric(*trained, *task, percent);
      stats.taskMetrics.emplace_back("pruned_now/" + m.name, m.value);
    };
  }
  // The task built above owns the transforms: TrainerOptions' transform fields are read
  // only by the Trainer constructor that builds its own classification task.
  Trainer trainer(graph, task, options, request.control);
  for (TrainObserver* obs : request.observers) trainer.addObserver(obs);
  const TrainResult r = trainer.run();
  if (r.epochsCompleted > 0) {
    // The trained copy keeps the input its shapes were inferred at.
    m_history.push(std::move(*graph), request.label.empty() ? trainLabel(r) : request.label);
  }
  return r;
}

PruneOutcome Session::prune(const PruneRequest& request, const std::string& label) {
  PruneOutcome out = runPruning(model(), request);
  m_history.push(out.graph.share(), label, true);
  return out;
}

SensitivityTable Session::sweepSensitivity(SensitivityOptions options, int64_t valImages, const TaskSettings& settings,
                                           const SensitivityProgress& progress) const {
  if (!m_data) throw Error("sensitivity", "needs validation data: open a dataset first");
  if (valImages < 0) throw Error("--val-images", "must be >= 0");
  const Graph& model = m_history.current();
  const Shape input = defaultInputShape(model);
  Graph g = model.share();
  inferShapes(g, input);
  if (needsCalibration(options.importance.criterion) && options.importance.calibration.empty())
    calibrate(options.importance, CalibrationOptions{}, input);
  OpenedData sub = *m_data;  // shares the datasets
  if (valImages > 0 && sub.task == TaskKind::Classify)
    sub.cls.val = limitDataset(sub.cls.val, static_cast<size_t>(valImages), sub.spec.seed + 2);
  // A guessing classifier's top-1: a cut at or below it has collapsed (mAP's is 0).
  if (sub.task == TaskKind::Classify && sub.numClasses() > 0) options.chance = 1.0 / double(sub.numClasses());
  std::string metricName;
  std::shared_ptr<const CachedBatchSource> batches;  // every cut is validated on the same batches
  const SensitivityMetric metric = [&](const std::shared_ptr<Graph>& m) {
    auto task = makeTrainTask(sub, *m, settings, 128);
    if (!batches) batches = std::make_shared<CachedBatchSource>(task->valSource(0));
    const Metric r = validateModel(m, *task, "cpu", batches);
    metricName = r.name;
    return r.value;
  };
  SensitivityTable t = prunelab::sweepSensitivity(g, input, metric, options, progress);
  t.metric = metricName;
  t.valImages = static_cast<int64_t>(sub.task == TaskKind::Detect ? sub.det.val->size() : sub.cls.val->size());
  const auto name = model.metadata().find("model");
  t.model = name == model.metadata().end() ? std::string() : name->second;
  return t;
}

Session::Applied Session::applyPlan(const std::vector<SurgeryLogEntry>& log, const SurgeryOptions& options,
                                    const std::string& label, const Refit* refit) {
  const DependencyGraph deps(model());
  const PrunePlan plan = planFromLog(deps, log);
  if (plan.empty()) throw Error("prune", "the plan removes no channels");
  Applied a;
  a.surgery = applySurgery(deps, plan, options);
  if (refit) {
    ReconstructOptions ro = refit->options;
    ImportanceOptions io;
    a.calibratedOn = calibrate(io, refit->calibration);
    ro.calibration = std::move(io.calibration);
    a.reconstruction = reconstructConsumers(deps, plan, a.surgery.graph, ro);
  }
  m_history.push(a.surgery.graph.share(), label, true);
  return a;
}

std::string trainLabel(const TrainResult& r) {
  std::ostringstream s;
  s << (r.cancelled ? "cancelled after " : "trained ") << r.epochsCompleted << " epochs (sr " << r.srStart;
  if (r.srMovedLive) s << " -> " << r.srEnd << ", moved live";
  if (r.distilled) s << ", distilled";
  s << ")";
  return s.str();
}

}  // namespace prunelab
