// One planner: `prunelab-cli prune` and the workbench's what-if make the same plan.
//
// The CLI side builds a PruneRequest as cmd_prune.cpp does and runs core's runPruning
// (importance, planner, surgery) on the model loaded from a .plm. The workbench side
// loads the same file in a real Worker, takes the skeleton and the scores it emits, and
// plans with PruneModel. For activation, taylor and reconstruction both sides get the
// same fixed calibration batches (cmd_prune's seeded random inputs: the worker would
// read them from a dataset) and score with computeImportance on the loaded graph, as the
// worker does. The removed channels of every group, and the log the workbench sends to
// its worker, must be identical for a global percent, per-layer ratios and a MACs target
// (and a global percent under --normalize mean for the data-free criteria), with
// round-to 4 and a minimum of 2 in force, on ResNet-20, MobileNetV2 and YOLOv8n.

#include <QDir>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/runtime.h"
#include "gui/prune_model.h"
#include "gui/worker.h"
#include "io/checkpoint.h"
#include "models/model_loader.h"
#include "pruning/pruner.h"
#include "util/error.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {

struct ModelCase {
  std::string name;
  Shape input;            // C x H x W, as --input
  int64_t imageSize = 0;  // the workbench's image size for it (0: the model's default)
};

const char* const kCriteria[] = {"l1", "l2", "bn", "random", "activation", "taylor", "reconstruction"};

// The model both sides load: the zoo model with spread BN gammas (else every bn score
// ties at 1), saved as a .plm that records its input size.
std::string writeModel(const ModelCase& mc, const QString& dir) {
  ModelRequest req;
  req.model = mc.name;
  if (mc.name != "yolov8n") req.numClasses = 10;
  Graph g = loadModel(req);
  torch::NoGradGuard ng;
  torch::manual_seed(11);
  for (Node& n : g.nodes())
    if (n.op == OpKind::BatchNorm) {
      n.tensor("weight").uniform_(0.0, 1.0);
      n.tensor("bias").uniform_(-0.1, 0.1);
    }
  g.metadata()["input"] = shapeToString(mc.input);
  Checkpoint ck;
  ck.graph = std::move(g);
  const std::string path = QDir(dir).filePath(QString::fromStdString(mc.name) + ".plm").toStdString();
  saveCheckpoint(path, ck);
  return path;
}

// cmd_prune's calibration without --calib, at --calib-batches 2 --calib-batch 2 --seed 0.
std::vector<at::Tensor> calibrationBatches(const Shape& input) {
  at::manual_seed(0);
  std::vector<at::Tensor> batches;
  for (int b = 0; b < 2; ++b) batches.push_back(at::randn({2, input[0], input[1], input[2]}));
  return batches;
}

enum class Mode { Percent, PercentMean, Ratios, TargetMacs };
const char* modeName(Mode m) {
  switch (m) {
    case Mode::Percent: return "percent";
    case Mode::PercentMean: return "percent --normalize mean";
    case Mode::Ratios: return "ratios";
    case Mode::TargetMacs: return "target-macs";
  }
  return "";
}

PlanConstraints constraintsFor(Mode m) {
  PlanConstraints c;  // --min-channels 2 --round-to 4 [--normalize mean]
  c.minChannels = 2;
  c.roundTo = 4;
  if (m == Mode::PercentMean) c.normalize = ScoreNormalization::GroupMean;
  return c;
}

// What a ratios YAML would say: one ratio per layer that creates a prunable group (a
// YAML map names each layer once; YOLO's C2f cv1 names two groups).
std::vector<std::pair<std::string, double>> layerRatios(const DependencyGraph& deps) {
  const double ratios[] = {0.1, 0.25, 0.4, 0.55, 0.3, 0.75};
  std::vector<std::pair<std::string, double>> r;
  std::set<std::string> seen;
  for (const Group& g : deps.groups())
    if (g.prunable() && seen.insert(g.name).second) r.emplace_back(g.name, ratios[r.size() % 6]);
  return r;
}

// The workbench's view of one model: what the Worker emitted after loading it.
struct WorkerView {
  std::shared_ptr<const Graph> skeleton;
  std::map<std::string, std::vector<std::vector<double>>> scores;  // data-free criteria, by name
};

WorkerView workerView(const ModelCase& mc, const std::string& path) {
  Worker worker;
  WorkerView v;
  QStringList failures;
  QObject::connect(&worker, &Worker::modelChanged, [&](const ModelSnapshot& s) { v.skeleton = s.skeleton; });
  QObject::connect(&worker, &Worker::scoresReady,
                   [&](const QString& c, const std::shared_ptr<const std::vector<std::vector<double>>>& s) {
                     v.scores[c.toStdString()] = *s;
                   });
  QObject::connect(&worker, &Worker::failed, [&](const QString& task, const QString& m) { failures << task + ": " + m; });
  ModelSpec spec;
  spec.model = path;
  spec.imageSize = mc.imageSize;
  worker.loadModel(spec);  // direct calls: the worker lives on this thread here
  for (const char* c : {"l1", "l2", "bn", "random"}) worker.computeImportance(c);
  if (!failures.isEmpty()) qFatal("worker: %s", qPrintable(failures.join("; ")));
  return v;
}

}  // namespace

// One model as both sides see it, prepared once for all its criteria.
struct Prepared {
  std::string path;
  WorkerView view;
  std::unique_ptr<DependencyGraph> deps;  // over view.skeleton
  Graph cliGraph;                         // as cmd_prune loads it
  Graph shaped;                           // ... with shapes at --input, as the worker holds it
  int64_t macs = 0;
  std::vector<at::Tensor> calibration;
};

class TestOnePlanner : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { configureThreads(0); }
  void samePlans_data();
  void samePlans();

 private:
  const Prepared& prepared(const ModelCase& mc);
  QTemporaryDir m_dir;
  std::map<std::string, Prepared> m_models;
};

void TestOnePlanner::samePlans_data() {
  QTest::addColumn<QString>("model");
  QTest::addColumn<QString>("criterion");
  for (const char* model : {"resnet20", "mobilenet_v2", "yolov8n"})
    for (const char* criterion : kCriteria)
      QTest::newRow(qPrintable(QString("%1 %2").arg(model, criterion))) << QString(model) << QString(criterion);
}

const Prepared& TestOnePlanner::prepared(const ModelCase& mc) {
  auto it = m_models.find(mc.name);
  if (it != m_models.end()) return it->second;
  Prepared& p = m_models[mc.name];
  p.path = writeModel(mc, m_dir.path());
  p.view = workerView(mc, p.path);
  p.deps = std::make_unique<DependencyGraph>(*p.view.skeleton);
  ModelRequest req;
  req.model = p.path;
  p.cliGraph = loadModel(req);
  p.shaped = p.cliGraph.clone();
  inferShapes(p.shaped, mc.input);
  p.macs = computeCost(p.shaped).macs;
  p.calibration = calibrationBatches(mc.input);
  return p;
}

void TestOnePlanner::samePlans() {
  QFETCH(QString, model);
  QFETCH(QString, criterion);
  const ModelCase mc = model == "resnet20"       ? ModelCase{"resnet20", {3, 32, 32}, 0}
                       : model == "mobilenet_v2" ? ModelCase{"mobilenet_v2", {3, 64, 64}, 64}
                                                 : ModelCase{"yolov8n", {3, 160, 160}, 160};
  const Prepared& p = prepared(mc);
  QVERIFY(p.view.skeleton != nullptr);
  const DependencyGraph& skeletonDeps = *p.deps;
  const WorkerView& view = p.view;
  const Graph& cliGraph = p.cliGraph;
  const int64_t macs = p.macs;
  int compared = 0;

  // The worker's scores; for data-driven criteria, computeImportance on the loaded
  // graph with the calibration batches, which is what Worker::computeImportance does
  // with batches from its dataset.
  std::vector<std::vector<double>> scores;
  ImportanceOptions io;
  io.criterion = parseCriterion(criterion.toStdString());
  if (needsCalibration(io.criterion)) {
    io.calibration = p.calibration;
    scores = computeImportance(DependencyGraph(p.shaped), io);
  } else {
    scores = view.scores.at(criterion.toStdString());
  }

  // --normalize mean is checked on the data-free criteria only: each data-driven run
  // re-scores with forward/backward passes, and the planner does not care where scores come from.
  std::vector<Mode> modes{Mode::Percent, Mode::Ratios, Mode::TargetMacs};
  if (!needsCalibration(io.criterion)) modes.push_back(Mode::PercentMean);
  for (Mode mode : modes) {
    const QByteArray what = QString("%1 %2 %3").arg(model, criterion, modeName(mode)).toUtf8();
    // CLI: the request cmd_prune builds for
    //   prune --model M.plm --input CxHxW --criterion C --min-channels 2 --round-to 4 MODE
    PruneRequest r;
    r.inputShape = mc.input;
    r.importance = io;
    r.importance.reduction = GroupReduction::Sum;
    r.importance.seed = 0;
    r.constraints = constraintsFor(mode);
    switch (mode) {
      case Mode::Percent:
      case Mode::PercentMean:
        r.mode = PruneRequest::Mode::GlobalPercent;
        r.amount = 0.3;
        break;
      case Mode::Ratios:
        r.mode = PruneRequest::Mode::Ratios;
        r.ratios = layerRatios(skeletonDeps);
        break;
      case Mode::TargetMacs:
        r.mode = PruneRequest::Mode::TargetMacs;
        r.target = static_cast<int64_t>(0.6 * double(macs));
        break;
    }
    const PruneOutcome cli = runPruning(cliGraph, r);

    // Workbench: PruneModel over the worker's skeleton and scores.
    PruneModel m;
    m.setGraph(view.skeleton);
    m.setScores(scores, criterion.toStdString());
    m.setConstraints(constraintsFor(mode));
    QCOMPARE(m.before().macs, macs);
    switch (mode) {
      case Mode::Percent:
      case Mode::PercentMean: m.setGlobalPercent(0.3); break;
      case Mode::Ratios: {
        // One table edit per entry. The file's first matching entry wins and an edit
        // overrides the earlier ones, so the edits go from the last entry to the first.
        const auto entries = layerRatios(skeletonDeps);
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
          const auto& [layer, ratio] = *it;
          const int g = m.groupOfLayer(layer);
          const bool unscored = std::isnan(scores[g][0]);  // bn without BatchNorm: --ratios leaves it
          try {
            m.setLayerRatio(layer, ratio);
            QVERIFY2(!unscored, what.constData());
          } catch (const Error&) {
            QVERIFY2(unscored, what.constData());
          }
        }
        break;
      }
      case Mode::TargetMacs: m.setTarget(r.target, false); break;
    }

    // Same removed channels in every group, read back as the worker's surgery reads
    // each side's log.
    const PrunePlan cliPlan = planFromLog(skeletonDeps, cli.log);
    const PrunePlan guiPlan = planFromLog(skeletonDeps, m.planLog());
    if (mode == Mode::Ratios || mode == Mode::TargetMacs) QVERIFY2(cliPlan.removedCount() > 0, what.constData());
    if (cliPlan.empty()) {  // a percent whose threshold ties with the lowest scores removes nothing
      const double t = globalPercentThreshold(skeletonDeps, scores, 0.3, constraintsFor(mode));
      const int64_t below = planGlobalPercent(skeletonDeps, scores, 0.3, constraintsFor(mode)).removedCount();
      qInfo("%s: empty plan, threshold %g, %lld below", what.constData(), t, static_cast<long long>(below));
    }
    for (size_t g = 0; g < skeletonDeps.groups().size(); ++g) {
      const QByteArray where = what + " group " + QByteArray::fromStdString(skeletonDeps.groups()[g].name);
      QVERIFY2(guiPlan.removed[g] == cliPlan.removed[g], where.constData());
      QVERIFY2(m.plan().removed[g] == cliPlan.removed[g], where.constData());
    }
    // The log the workbench sends to its worker is the CLI's surgery log, entry for entry.
    const auto guiLog = m.planLog();
    QCOMPARE(guiLog.size(), cli.log.size());
    for (size_t i = 0; i < guiLog.size(); ++i) {
      QVERIFY2(guiLog[i].source == cli.log[i].source, what.constData());
      QVERIFY2(guiLog[i].channels == cli.log[i].channels, what.constData());
    }
    // And the same cost: the what-if is what the CLI's surgery produced.
    const GraphCost after = computeCost(cli.graph);
    QCOMPARE(m.whatIf().macs, after.macs);
    QCOMPARE(m.whatIf().params, after.params);
    if (mode == Mode::TargetMacs) QVERIFY2(after.macs <= r.target, what.constData());
    if (mode == Mode::Percent) QCOMPARE(m.highestSafePercent(), cli.highestSafePercent);
    ++compared;
  }
  QCOMPARE(compared, static_cast<int>(modes.size()));
}

QTEST_GUILESS_MAIN(TestOnePlanner)
#include "test_one_planner.moc"
