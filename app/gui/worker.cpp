#include "gui/worker.h"

#include <QFileInfo>
#include <QTemporaryDir>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "data/detection/fashion_det.h"
#include "distributed/dist_env.h"
#include "distributed/dist_group.h"
#include "gui/detection_preview.h"
#include "gui/local_workers.h"
#include "gui/view_convert.h"
#include "detect/yolo_head.h"
#include "exec/latency.h"
#include "io/checkpoint.h"
#include "models/yolo/yolo_checkpoint.h"
#include "pruning/importance.h"
#include "session/model_export.h"
#include "session/session.h"
#include "util/error.h"

namespace prunelab::gui {

struct Worker::Impl {
  Session session;
  ModelSpec lastModel;  // what the current history was loaded from
  DetectionPreviewer previewer;  // samples of the open detection data
};

Worker::Worker(QObject* parent)
    : QObject(parent), m(std::make_unique<Impl>()), m_bridge([this] { Q_EMIT trainDataPending(); }),
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
  ModelHistory& h = m->session.history();
  Graph& current = h.current();
  ModelSnapshot s;
  s.skeleton = std::make_shared<const Graph>(current.skeleton());
  s.label = label;
  s.task = detect::isDetector(current) ? "detect" : "classify";
  s.historyIndex = h.position();
  s.historySize = h.size();
  s.gammas = snapshotGammas(current);
  s.latencyMs = measureLatencyMs(current, 10);
  Q_EMIT modelChanged(s);
  refreshDetections();
}

void Worker::refreshDetections() {
  ModelHistory& h = m->session.history();
  if (h.empty() || !detect::isDetector(h.current())) {
    Q_EMIT detectionsCleared(h.empty() ? "Open a detector and YOLO data to see its boxes here."
                                       : "The Detections view shows a detector's boxes; this model is a classifier.");
    return;
  }
  if (!m->previewer.hasSamples()) {
    Q_EMIT detectionsCleared("Open YOLO data (Data > Open) to see this detector's boxes on validation images.");
    return;
  }
  try {
    const int b = h.baseline();
    Q_EMIT detectionsReady(m->previewer.preview(h.at(b), h.label(b), h.currentPtr(), h.currentLabel()));
  } catch (const std::exception& e) {  // the view is a convenience: never fail the task that changed the model
    Q_EMIT detectionsCleared(QString("No detections: %1").arg(e.what()));
  }
}

namespace {
ModelRequest requestFor(const ModelSpec& spec) {
  ModelRequest req;
  req.model = spec.model;
  req.numClasses = spec.numClasses;
  req.weights = spec.weights;
  return req;
}
}  // namespace

void Worker::loadModel(const ModelSpec& spec) {
  guarded("Load model", [&] {
    m->session.loadModel(requestFor(spec), spec.imageSize);
    m->lastModel = spec;
    publish(m->session.history().currentLabel());
    Q_EMIT info(QString("Loaded %1").arg(QString::fromStdString(spec.model)));
    // A .pt checkpoint brings its class names; a transfer says what it copied.
    const Graph& g = m->session.model();
    if (g.metadata().count("source")) Q_EMIT info(QString::fromStdString("from " + g.metadata().at("source")));
    const std::vector<std::string> names = classNames(g);
    if (!names.empty()) {
      QStringList list;
      for (size_t i = 0; i < names.size(); ++i) list << QString("%1: %2").arg(i).arg(QString::fromStdString(names[i]));
      Q_EMIT info(QString("classes (%1): %2").arg(names.size()).arg(list.join(", ")));
    }
    for (const std::string& line : m->session.lastLoadReport().lines()) Q_EMIT info(QString::fromStdString(line));
    for (const std::string& w : m->session.lastLoadReport().warnings) Q_EMIT info("warning: " + QString::fromStdString(w));
  });
}

void Worker::openData(const DataSpec& spec) {
  guarded("Open data", [&] {
    const bool rebuilt = m->session.openData(spec, /*fitModelClasses=*/true);
    const OpenedData& d = m->session.data();
    m->previewer.setData(d.task == TaskKind::Detect ? d.det.val : nullptr);
    for (const std::string& line : dataReport(d)) Q_EMIT info(QString::fromStdString(line));
    if (rebuilt) {
      m->lastModel.numClasses = d.numClasses();
      publish(m->session.history().currentLabel());
      Q_EMIT info(QString("Rebuilt %1 for the data's %2 classes")
                      .arg(QString::fromStdString(m->lastModel.model))
                      .arg(d.numClasses()));
      for (const std::string& line : m->session.lastLoadReport().lines()) Q_EMIT info(QString::fromStdString(line));
    }
    Q_EMIT dataOpened(QString::fromStdString(d.description()), d.task == TaskKind::Detect);
    refreshDetections();
  });
}

SessionTrainRequest Worker::trainRequest(const TrainSettings& s, const std::shared_ptr<TrainControl>& control) {
  // The GUI's controls for this run; never reset here (a queued Cancel holds).
  SessionTrainRequest req = m->session.trainRequest(s, control);
  req.observers = {&m_bridge};
  if (s.distill) {
    ModelHistory& h = m->session.history();
    Q_EMIT info(QString::fromStdString(h.baseline() == h.position()
                                           ? "Distilling from the current model itself: nothing has been cut yet"
                                           : "Distilling from '" + h.label(h.baseline()) + "'"));
  }
  return req;
}

// After each epoch's validation, on the training thread: the Detections view of the model
// being trained beside the baseline's.
void Worker::previewWhileTraining(SessionTrainRequest& req) {
  ModelHistory& h = m->session.history();
  if (!m->previewer.hasSamples() || !detect::isDetector(h.current())) return;
  const std::shared_ptr<Graph> baseline = h.at(h.baseline());
  const std::string baselineLabel = h.label(h.baseline());
  m->previewer.prepareBaseline(baseline);
  req.onStart = [this, baseline, baselineLabel](const std::shared_ptr<Graph>& graph, const std::shared_ptr<TrainTask>&) {
    m_bridge.epochProbe = [this, graph, baseline, baselineLabel](const EpochStats& e) {
      try {
        const std::string now = "training, epoch " + std::to_string(e.epoch + 1) + "/" + std::to_string(e.epochs);
        Q_EMIT detectionsReady(m->previewer.preview(baseline, baselineLabel, graph, now));
      } catch (const std::exception& ex) {
        m_bridge.onMessage(std::string("detections view: ") + ex.what());
      }
      return TrainBridge::Named{};
    };
  };
}

void Worker::train(const TrainSettings& s, const std::shared_ptr<TrainControl>& control) {
  bool ok = false;
  QString summary;
  guarded("Train", [&] {
    SessionTrainRequest req = trainRequest(s, control);
    m_bridge.reset();
    m_bridge.epochProbe = nullptr;
    previewWhileTraining(req);
    std::unique_ptr<QTemporaryDir> scratch;
    std::unique_ptr<LocalWorkers> workers;
    if (s.processes > 1) {
      scratch = std::make_unique<QTemporaryDir>();
      req.options.dist = startDataParallel(s, req.options.device, *scratch, workers);
    }
    const TrainResult r = m->session.train(req);
    if (workers) {
      const std::string problems = workers->finish(60000);
      if (!problems.empty()) Q_EMIT info(QString::fromStdString("Data-parallel workers: " + problems));
    }
    m_bridge.epochProbe = nullptr;
    const std::string label = trainLabel(r);
    if (r.epochsCompleted > 0) publish(label);
    std::ostringstream sum;
    sum << label << ", " << static_cast<int>(r.imagesPerSec) << " images/s";
    if (r.epochsCompleted > 0 && r.last.task == "classify") sum << ", val top-1 " << r.last.valTop1 * 100 << "%";
    summary = QString::fromStdString(sum.str());
    ok = !r.cancelled;
  });
  m_bridge.epochProbe = nullptr;
  Q_EMIT trainingFinished(ok, summary);
}

std::shared_ptr<DistGroup> Worker::startDataParallel(const TrainSettings& s, const std::string& device,
                                                     const QTemporaryDir& scratch,
                                                     std::unique_ptr<LocalWorkers>& workers) {
  if (!scratch.isValid()) throw Error("data-parallel training", "no temporary directory for the workers' files");
  // The other ranks load what this one trains: the current model and the open data, with
  // the same options; lr and sr follow this rank's controls from the first step.
  const QString dir = scratch.path();
  const std::string start = (dir + "/start.plm").toStdString();
  prunelab::saveCheckpoint(start, Checkpoint{m->session.model().share(), {}, {}});
  QStringList args{"--model", QString::fromStdString(start), "--epochs", QString::number(s.epochs), "--batch",
                   QString::number(s.batch), "--lr", QString::number(s.lr, 'g', 17), "--sr",
                   QString::number(s.sr, 'g', 17), "--gamma-every", "0", "--out", dir + "/workers",
                   "--dist-timeout", "86400"};
  if (s.srDecay) args << "--sr-decay";
  for (const std::string& a : dataSpecArguments(m->session.data().spec)) args << QString::fromStdString(a);
  if (s.distill) {
    const std::string teacher = (dir + "/teacher.plm").toStdString();
    ModelHistory& h = m->session.history();
    prunelab::saveCheckpoint(teacher, Checkpoint{h.at(h.baseline())->share(), {}, {}});
    args << "--teacher" << QString::fromStdString(teacher) << "--kd-weight" << QString::number(s.kd.weight, 'g', 17)
         << "--kd-temperature" << QString::number(s.kd.temperature, 'g', 17);
  }
  DistEnv env;
  env.world = s.processes;
  env.masterPort = freeLocalPort();
  env.connectTimeout = std::chrono::seconds(120);  // the workers load the model and data first
  env.timeout = std::chrono::hours(24);            // Pause holds the other ranks at the next step
  workers = std::make_unique<LocalWorkers>(env.world, env.masterPort, args, dir);
  Q_EMIT info(QString("Data-parallel: %1 processes (this one is rank 0), batch %2 each, store 127.0.0.1:%3")
                  .arg(env.world)
                  .arg(s.batch)
                  .arg(env.masterPort));
  return DistGroup::join(env, device);
}

void Worker::computeImportance(const QString& criterion) {
  guarded("Importance", [&] {
    ImportanceOptions io;
    io.criterion = parseCriterion(criterion.toStdString());
    Session::Scores s = m->session.importance(io);
    if (!s.calibratedOn.empty()) Q_EMIT info(criterion + " calibrates on " + QString::fromStdString(s.calibratedOn));
    Q_EMIT scoresReady(criterion, std::make_shared<const std::vector<std::vector<double>>>(std::move(s.groups)));
  });
}

void Worker::applyPlan(const std::vector<SurgeryLogEntry>& plan, bool foldBeta, bool reconstruct, const QString& label) {
  guarded("Prune", [&] {
    SurgeryOptions so;
    so.foldBeta = foldBeta;
    Session::Refit refit;
    const Session::Applied a = m->session.applyPlan(plan, so, label.toStdString(), reconstruct ? &refit : nullptr);
    const SurgeryResult& r = a.surgery;
    publish(label.toStdString());
    int64_t removed = 0;
    for (const SurgeryLogEntry& e : r.log) removed += static_cast<int64_t>(e.channels.size());
    Q_EMIT info(QString("Pruned %1 channels; forward check passed").arg(removed));
    if (foldBeta) {
      QString fold = QString("Beta folded into %1 layer(s)").arg(r.betaFold.folded.size());
      if (!r.betaFold.skipped.empty())
        fold += QString("; not folded into %1 padded/grouped layer(s), where it would be inexact at the borders")
                    .arg(r.betaFold.skipped.size());
      Q_EMIT info(fold);
    }
    if (reconstruct) {
      int applied = 0;
      double before = 0, after = 0;
      for (const ConsumerRefit& c : a.reconstruction.consumers) {
        if (!c.applied) continue;
        ++applied;
        before += c.errorBefore;
        after += c.errorAfter;
      }
      Q_EMIT info(QString("Refitted %1 of %2 layer(s) by least squares on %3 in %4 s; mean relative output error "
                          "%5 -> %6")
                      .arg(applied)
                      .arg(a.reconstruction.consumers.size())
                      .arg(QString::fromStdString(a.calibratedOn))
                      .arg(a.reconstruction.seconds, 0, 'f', 1)
                      .arg(applied ? before / applied : 0.0, 0, 'f', 3)
                      .arg(applied ? after / applied : 0.0, 0, 'f', 3));
    }
  });
}

void Worker::sweepSensitivity(const QVector<double>& ratios, int valImages, const QString& criterion,
                              const std::shared_ptr<std::atomic<bool>>& cancel) {
  guarded("Sensitivity", [&] {
    SensitivityOptions o;
    o.ratios.assign(ratios.begin(), ratios.end());
    o.importance.criterion = parseCriterion(criterion.toStdString());
    const auto t0 = std::chrono::steady_clock::now();
    const SensitivityTable t =
        m->session.sweepSensitivity(o, valImages, {}, [&](int done, int total, const std::string&, double) {
          const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const double eta = done > 0 ? elapsed * (total - done) / done : -1.0;
          Q_EMIT sensitivityProgress(done, total, eta);
          Q_EMIT progress(total > 0 ? double(done) / total : 0.0, eta);
          return !cancel->load();
        });
    Q_EMIT sensitivityReady(sensitivityView(t));
    Q_EMIT info(QString("Sensitivity: %1 groups x %2 ratios on %3 validation images in %4 s%5")
                    .arg(t.rows.size())
                    .arg(t.ratios.size())
                    .arg(t.valImages)
                    .arg(t.seconds, 0, 'f', 1)
                    .arg(cancel->load() ? " (cancelled: the rows finished so far)" : ""));
  });
}

void Worker::latencyTable() {
  guarded("Latency table", [&] {
    LatencyTableRequest request;
    const auto t0 = std::chrono::steady_clock::now();
    request.progress = [&](int done, int total, const std::string&) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      Q_EMIT progress(total > 0 ? double(done) / total : 0.0, done > 0 ? elapsed * (total - done) / done : -1.0);
    };
    auto t = std::make_shared<const LatencyTable>(m->session.latencyTable(request));
    Q_EMIT info(QString("Latency table: %1 layers at %2, batch 1, in %3 s; whole model %4 ms%5")
                    .arg(t->layers.size())
                    .arg(QString::fromStdString(shapeToString(t->input)))
                    .arg(t->seconds, 0, 'f', 1)
                    .arg(t->totalMs, 0, 'f', 2)
                    .arg(t->suggestedRoundTo > 1 ? QString("; latency steps every %1 channels").arg(t->suggestedRoundTo)
                                                 : QString()));
    Q_EMIT latencyTableReady(t);
  });
}

void Worker::undo() {
  guarded("Undo", [&] {
    ModelHistory& h = m->session.history();
    h.undo();
    publish("undo: " + h.currentLabel());
  });
}

void Worker::redo() {
  guarded("Redo", [&] {
    ModelHistory& h = m->session.history();
    h.redo();
    publish("redo: " + h.currentLabel());
  });
}

void Worker::evaluate() {
  guarded("Evaluate", [&] {
    const Metric metric = m->session.validate(m->session.history().currentPtr());
    Q_EMIT evaluated(QString::fromStdString(metric.name), metric.value);
  });
}

void Worker::compare() {
  guarded("Compare", [&] {
    ModelHistory& h = m->session.history();
    const std::shared_ptr<Graph> beforePtr = h.at(h.baseline()), afterPtr = h.currentPtr();
    Graph& before = *beforePtr;
    Graph& after = *afterPtr;
    CompareResult r;
    r.before = std::make_shared<const Graph>(before.skeleton());
    r.after = std::make_shared<const Graph>(after.skeleton());
    std::tie(r.latencyBeforeMs, r.latencyAfterMs) = measureLatencyPairMs(before, after);
    Q_EMIT progress(0.5, -1);
    if (m->session.hasData()) {
      const Metric mb = m->session.validate(beforePtr);
      Q_EMIT progress(0.75, -1);
      const Metric ma = m->session.validate(afterPtr);
      r.metricName = mb.name;
      r.metricBefore = mb.value;
      r.metricAfter = ma.value;
    }
    Q_EMIT compared(r);
  });
}

void Worker::saveCheckpoint(const QString& path) {
  guarded("Save", [&] {
    Checkpoint ck;
    ck.graph = m->session.model().share();
    ck.info["history"] = m->session.history().currentLabel();
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
  guarded("Export", [&] {
    ExportRequest req;
    req.format = format.toStdString();
    req.out = path.toStdString();
    req.onnx.opset = opset;
    req.onnx.foldBn = foldBn;
    req.plan = m->session.history().currentLabel();
    const ExportResult r = prunelab::exportModel(m->session.model(), req);
    Q_EMIT info(QString("Exported %1 (%2, %3 MB): %4, max relative difference %5")
                    .arg(path, QString::fromStdString(r.format))
                    .arg(double(r.bytes) / 1e6, 0, 'f', 2)
                    .arg(QString::fromStdString(r.check))
                    .arg(r.maxRelDiff.value_or(-1), 0, 'g', 3));
    if (!r.yaml.empty()) Q_EMIT info(QString::fromStdString(r.yaml));
    Q_EMIT exported(QString::fromStdString(r.format), path, r.maxRelDiff.value_or(-1));
    Q_EMIT checkpointSaved(path);
  });
}

}  // namespace prunelab::gui
