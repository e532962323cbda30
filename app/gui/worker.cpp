#include "gui/worker.h"

#include <QFileInfo>

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "analysis/shape_inference.h"
#include "data/data_loader.h"
#include "detect/yolo_head.h"
#include "eval/classification_eval.h"
#include "exec/graph_module.h"
#include "exec/inference.h"
#include "data/detection/fashion_det.h"
#include "exec/latency.h"
#include "io/checkpoint.h"
#include "io/onnx_export.h"
#include "io/torchscript_export.h"
#include "models/model_loader.h"
#include "pruning/importance.h"
#include "pruning/pruner.h"
#include "train/classification_task.h"
#include "train/detection_task.h"
#include "train/trainer.h"
#include "util/error.h"

namespace prunelab::gui {

namespace {

bool isYoloDataSpec(const std::string& spec) {
  const auto dot = spec.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : spec.substr(dot);
  return ext == ".yaml" || ext == ".yml";
}


}  // namespace

struct Worker::Impl {
  std::vector<std::shared_ptr<Graph>> history;
  std::vector<std::string> labels;
  std::vector<bool> pruned;  // history[i] was made by surgery
  int pos = -1;

  // What Compare calls "before": the last version before the first cut up to the
  // current one (the trained, unpruned model), else the first.
  int baseline() const {
    for (int i = 1; i <= pos; ++i)
      if (pruned[i]) return i - 1;
    return 0;
  }

  DataSpec dataSpec;
  bool hasData = false;
  bool detectData = false;
  DatasetSplits cls;
  DetectionSplits det;

  Graph& current() {
    if (pos < 0) throw Error("model", "no model loaded");
    return *history[pos];
  }

  std::shared_ptr<TrainTask> makeTask(const Graph& g, int64_t batch) const {
    if (!hasData) throw Error("data", "no dataset opened");
    if (detectData != detect::isDetector(g))
      throw Error("data", detectData ? "a YOLO dataset needs a detector model" : "a detector needs a YOLO data.yaml");
    if (!detectData) {
      TransformOptions trainT, evalT;
      defaultTransforms(*cls.train, defaultInputShape(g)[0], trainT, evalT);
      return std::make_shared<ClassificationTask>(cls, trainT, evalT, 0.0);
    }
    DetectionTaskOptions o;
    o.augment.imgsz = static_cast<int>(defaultInputShape(g)[1]);
    o.post.iou = detect::readYoloHead(g).style == "v5" ? 0.6f : 0.7f;
    o.valBatch = std::max<int64_t>(batch, 32);
    return std::make_shared<DetectionTask>(det, o);
  }

  // Validates `graph` with the task's validation data; returns (metric name, value).
  std::pair<std::string, double> validate(const std::shared_ptr<Graph>& graph, TrainTask& task) const {
    task.prepare(*graph);  // a detection task reads the head (classes, strides) from the graph it validates
    GraphModule module(graph);
    LoaderOptions lo;
    lo.shuffle = false;
    lo.augment = false;
    lo.batchSize = task.valBatchSize(128);
    DataLoader val(task.valSource(0), lo);
    EpochStats es;
    task.validate(*module, val, "cpu", 0, es);
    if (task.kind() == "classify") return {"top1", es.valTop1};
    for (const auto& kv : es.taskMetrics)
      if (kv.first == "metrics/mAP50-95(B)" || kv.first == "metrics/mAP50-95") return {"mAP50-95", kv.second};
    return {"fitness", es.fitness};
  }
};

Worker::Worker(TrainControl* control, QObject* parent)
    : QObject(parent), m(std::make_unique<Impl>()), m_control(control), m_bridge([this] { Q_EMIT trainDataPending(); }),
      m_threads(at::get_num_threads()) {}

Worker::~Worker() = default;

template <class F>
void Worker::guarded(const QString& task, F&& body) {
  // OpenMP thread counts are per calling thread: the worker thread would otherwise run
  // LibTorch with its own default (1 here) instead of what main() configured.
  static thread_local bool threadsSet = false;
  if (!threadsSet) {
    at::set_num_threads(m_threads);
    threadsSet = true;
  }
  Q_EMIT busy(task);
  Q_EMIT progress(-1, -1);
  try {
    body();
  } catch (const std::exception& e) {
    Q_EMIT failed(task, QString::fromStdString(e.what()));
  } catch (...) {
    Q_EMIT failed(task, "unknown error");
  }
  Q_EMIT busy(QString());
}

void Worker::publish(const std::string& label) {
  ModelSnapshot s;
  s.skeleton = std::make_shared<const Graph>(m->current().skeleton());
  s.label = label;
  s.task = detect::isDetector(m->current()) ? "detect" : "classify";
  s.historyIndex = m->pos;
  s.historySize = static_cast<int>(m->history.size());
  s.gammas = snapshotGammas(m->current());
  s.latencyMs = measureLatencyMs(m->current(), 10);
  Q_EMIT modelChanged(s);
}

void Worker::push(Graph graph, const std::string& label, bool bySurgery) {
  m->history.resize(m->pos + 1);  // a new change drops the redo tail
  m->labels.resize(m->pos + 1);
  m->pruned.resize(m->pos + 1);
  m->history.push_back(std::make_shared<Graph>(std::move(graph)));
  m->labels.push_back(label);
  m->pruned.push_back(bySurgery);
  m->pos = static_cast<int>(m->history.size()) - 1;
  publish(label);
}

void Worker::loadModel(const ModelSpec& spec) {
  guarded("Load model", [&] {
    ModelRequest req;
    req.model = spec.model;
    req.numClasses = spec.numClasses;
    req.weights = spec.weights;
    Graph g = prunelab::loadModel(req);
    // Shapes (hence MACs, the what-if and the latency) at the input the model will see:
    // the chosen size, else the model's recorded default, as prunelab-cli does.
    Shape chw = defaultInputShape(g);
    if (spec.imageSize > 0) {
      if (spec.imageSize % 32 != 0) throw Error("image size", std::to_string(spec.imageSize) + " is not a multiple of 32");
      chw = {chw[0], spec.imageSize, spec.imageSize};
      g.metadata()["input"] = shapeToString(chw);
    }
    inferShapes(g, chw);
    m->history.clear();
    m->labels.clear();
    m->pruned.clear();
    m->pos = -1;
    push(std::move(g), "loaded " + spec.model);
    Q_EMIT info(QString("Loaded %1").arg(QString::fromStdString(spec.model)));
  });
}

void Worker::openData(const DataSpec& spec) {
  guarded("Open data", [&] {
    m->hasData = false;
    m->detectData = isYoloDataSpec(spec.spec);
    std::ostringstream d;
    if (m->detectData) {
      m->det = openYoloData(spec.spec, static_cast<size_t>(spec.trainLimit), static_cast<size_t>(spec.valLimit));
      d << spec.spec << ": " << m->det.train->size() << " train / " << m->det.val->size() << " val images, "
        << m->det.val->numClasses() << " classes";
    } else {
      DatasetSplits s = openClassificationData(spec.spec);
      if (spec.trainLimit > 0) s.train = limitDataset(s.train, static_cast<size_t>(spec.trainLimit), 1);
      if (spec.valLimit > 0) s.val = limitDataset(s.val, static_cast<size_t>(spec.valLimit), 2);
      m->cls = s;
      d << spec.spec << ": " << s.train->size() << " train / " << s.val->size() << " val images, "
        << s.train->numClasses() << " classes";
    }
    m->dataSpec = spec;
    m->hasData = true;
    Q_EMIT dataOpened(QString::fromStdString(d.str()));
  });
}

void Worker::train(const TrainSettings& s) {
  bool ok = false;
  QString summary;
  guarded("Train", [&] {
    auto graph = std::make_shared<Graph>(m->current().clone());
    auto task = m->makeTask(*graph, s.batch);
    TrainerOptions o;
    o.epochs = s.epochs;
    o.batchSize = s.batch;
    o.lr = s.lr;
    o.sparsity.sr = s.sr;
    o.sparsity.linearDecay = s.srDecay;
    o.gammaEvery = s.gammaEvery;
    o.runDir = s.runDir;
    if (task->kind() == "detect") {
      o.momentum = 0.937;
      o.nesterov = true;
      o.weightDecay = 5e-4;
      o.schedule.warmupEpochs = std::min(3.0, s.epochs / 3.0);
    }
    m_control->sr.store(s.sr);
    m_control->lr.store(s.lr);
    m_control->cancelled.store(false);
    m_control->paused.store(false);
    m_bridge.reset();

    if (s.prunedNowPercent > 0) {
      const double percent = s.prunedNowPercent;
      const Shape input = defaultInputShape(*graph);
      m_bridge.epochProbe = [this, graph, task, percent, input](const EpochStats&) {
        TrainBridge::Named out;
        try {
          PruneRequest r;
          r.mode = PruneRequest::Mode::GlobalPercent;
          r.amount = percent;
          r.importance.criterion = Criterion::BnScale;
          r.inputShape = input;
          r.surgery.forwardCheck = false;
          auto pruned = std::make_shared<Graph>(runPruning(*graph, r).graph);
          const auto metric = m->validate(pruned, *task);
          out.emplace_back("pruned_now/" + metric.first, metric.second);
        } catch (const std::exception& e) {
          m_bridge.onMessage(std::string("pruned-now probe: ") + e.what());
        }
        return out;
      };
    } else {
      m_bridge.epochProbe = nullptr;
    }

    Trainer trainer(graph, task, o, m_control);
    trainer.addObserver(&m_bridge);
    const TrainResult r = trainer.run();
    m_bridge.epochProbe = nullptr;
    std::ostringstream label;
    label << (r.cancelled ? "cancelled after " : "trained ") << r.epochsCompleted << " epochs (sr " << s.sr << ")";
    if (r.epochsCompleted > 0) push(std::move(*graph), label.str());
    std::ostringstream sum;
    sum << label.str() << ", " << static_cast<int>(r.imagesPerSec) << " images/s";
    if (task->kind() == "classify") sum << ", val top-1 " << r.last.valTop1 * 100 << "%";
    summary = QString::fromStdString(sum.str());
    ok = !r.cancelled;
  });
  m_bridge.epochProbe = nullptr;
  Q_EMIT trainingFinished(ok, summary);
}

void Worker::computeImportance(const QString& criterion) {
  guarded("Importance", [&] {
    Graph& g = m->current();
    ImportanceOptions io;
    io.criterion = parseCriterion(criterion.toStdString());
    if (needsCalibration(io.criterion)) {
      if (!m->hasData) throw Error(criterion.toStdString(), "needs calibration data: open a dataset first");
      auto task = m->makeTask(g, 32);
      LoaderOptions lo;
      lo.batchSize = 32;
      lo.augment = false;
      DataLoader loader(task->valSource(0), lo);
      loader.startEpoch(0);
      std::vector<Batch> batches;
      Batch b;
      for (int i = 0; i < 4 && loader.next(b); ++i) {
        io.calibration.push_back(b.images);
        if (b.labels.defined()) io.labels.push_back(b.labels);
        batches.push_back(b);
      }
      if (io.criterion == Criterion::Taylor && task->kind() == "detect") {
        auto shared = std::make_shared<std::vector<Batch>>(std::move(batches));
        io.labels.clear();
        io.loss = [task, shared](const std::vector<at::Tensor>& outs, size_t i) { return task->loss(outs, (*shared)[i]); };
      }
    }
    const DependencyGraph deps(g);
    auto scores = std::make_shared<const std::vector<std::vector<double>>>(prunelab::computeImportance(deps, io));
    Q_EMIT scoresReady(criterion, scores);
  });
}

void Worker::applyPlan(const std::vector<SurgeryLogEntry>& plan, bool foldBeta, const QString& label) {
  guarded("Prune", [&] {
    Graph& g = m->current();
    const DependencyGraph deps(g);
    const PrunePlan p = planFromLog(deps, plan);
    if (p.empty()) throw Error("prune", "the plan removes no channels");
    SurgeryOptions so;
    so.foldBeta = foldBeta;
    SurgeryResult r = applySurgery(deps, p, so);
    push(std::move(r.graph), label.toStdString(), true);
    Q_EMIT info(QString("Pruned %1 channels; forward check passed").arg(p.removedCount()));
    if (foldBeta) {
      QString fold = QString("Beta folded into %1 layer(s)").arg(r.betaFold.folded.size());
      if (!r.betaFold.skipped.empty())
        fold += QString("; not folded into %1 padded/grouped layer(s), where it would be inexact at the borders")
                    .arg(r.betaFold.skipped.size());
      Q_EMIT info(fold);
    }
  });
}

void Worker::undo() {
  guarded("Undo", [&] {
    if (m->pos <= 0) throw Error("undo", "nothing to undo");
    --m->pos;
    publish("undo: " + m->labels[m->pos]);
  });
}

void Worker::redo() {
  guarded("Redo", [&] {
    if (m->pos + 1 >= static_cast<int>(m->history.size())) throw Error("redo", "nothing to redo");
    ++m->pos;
    publish("redo: " + m->labels[m->pos]);
  });
}

void Worker::evaluate() {
  guarded("Evaluate", [&] {
    auto task = m->makeTask(m->current(), 128);
    const auto metric = m->validate(m->history[m->pos], *task);
    Q_EMIT evaluated(QString::fromStdString(metric.first), metric.second);
  });
}

void Worker::compare() {
  guarded("Compare", [&] {
    const int b = m->baseline();
    Graph& before = *m->history[b];
    Graph& after = m->current();
    CompareResult r;
    r.before = std::make_shared<const Graph>(before.skeleton());
    r.after = std::make_shared<const Graph>(after.skeleton());
    std::tie(r.latencyBeforeMs, r.latencyAfterMs) = measureLatencyPairMs(before, after);
    Q_EMIT progress(0.5, -1);
    if (m->hasData) {
      auto task = m->makeTask(after, 128);
      const auto mb = m->validate(m->history[b], *task);
      Q_EMIT progress(0.75, -1);
      const auto ma = m->validate(m->history[m->pos], *task);
      r.metricName = mb.first;
      r.metricBefore = mb.second;
      r.metricAfter = ma.second;
    }
    Q_EMIT compared(r);
  });
}

void Worker::saveCheckpoint(const QString& path) {
  guarded("Save", [&] {
    Checkpoint ck;
    ck.graph = m->current();
    ck.info["history"] = m->labels[m->pos];
    prunelab::saveCheckpoint(path.toStdString(), ck);
    Q_EMIT checkpointSaved(path);
  });
}

void Worker::collectStory(const QString& runDir) {
  guarded("Report", [&] {
    ReportOptions o;
    auto r = std::make_shared<const StoryReport>(collectStoryReport(runDir.toStdString(), o));
    Q_EMIT storyCollected(r);
  });
}

void Worker::prepareFashionDet(const QString& dir, int trainImages, int valImages) {
  guarded("Demo data", [&] {
    if (QFileInfo::exists(dir + "/data.yaml")) return;
    FashionDetOptions o;
    o.outDir = dir.toStdString();
    o.trainImages = trainImages;
    o.valImages = valImages;
    Q_EMIT info("Writing the fashion-det demo images to " + dir);
    makeFashionDet(o, [this](int done, int total) { Q_EMIT progress(double(done) / total, -1); });
  });
}

void Worker::exportModel(const QString& format, const QString& path, int opset, bool foldBn) {
  if (format == "native") return saveCheckpoint(path);
  guarded("Export", [&] {
    const Graph& g = m->current();
    if (format == "onnx") {
      OnnxExportOptions o;
      o.opset = opset;
      o.foldBn = foldBn;
      exportOnnx(g, path.toStdString(), o);
    } else if (format == "torchscript") {
      exportTorchScript(g, path.toStdString());
    } else {
      throw Error("Export", "unknown format " + format.toStdString());
    }
    Q_EMIT checkpointSaved(path);
  });
}

}  // namespace prunelab::gui
