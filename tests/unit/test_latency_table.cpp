// Latency-aware planning (issue 18 item 4, pruning/latency_table.h, latency_target.h).
// Timings are injected where the arithmetic is checked, so nothing here depends on the
// machine's speed:
// - with a layer "latency" of in x out channels (bilinear in the kept fractions, so the
//   table's interpolation must be exact), the prediction of a plan equals the same sum
//   counted on the model surgery actually produced, plus the other-ops share scaled by
//   the activation elements that model really has;
// - planToLatency lands at or just under its target, and removing fewer channels would
//   miss it;
// - aimAtLatency corrects a table that is 25 % optimistic by measuring what it builds, and
//   measures the unpruned model beside each candidate; "unreachable" only when the strongest
//   plan measures above the target, not when the table predicts so;
// - rows are kept monotone (a narrower layer never predicts slower), so slow narrow timings
//   leave targets plannable;
// - the round-to suggestion finds a staircase of 8 and nothing on a smooth curve;
// - JSON round trip, and tables that do not belong to the model are refused.
// One real measurement (a small MobileNetV2, depthwise rows) checks the real timer runs
// every layer kind and that the whole-model figure is what an empty plan predicts.

#include <ATen/ATen.h>

#include <QtTest/QtTest>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../support/synthetic_models.h"
#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "models/zoo.h"
#include "ops/op_table.h"
#include "pruning/latency_table.h"
#include "pruning/latency_target.h"
#include "pruning/pruner.h"
#include "pruning/surgery.h"
#include "test_helpers.h"

using namespace prunelab;
namespace fs = std::filesystem;

namespace {

constexpr double kPerMac = 1e-3;  // injected "ms" per input x output channel pair

double macTimer(const Graph&, const Node&, int64_t in, int64_t out, int) { return kPerMac * double(in * out); }

// The same count on a built graph: every channel source's input x output channels.
double layerSum(const Graph& g) {
  double s = 0;
  for (const Node& n : g.nodes())
    if (opSpec(n.op).isChannelSource)
      s += kPerMac * double(g.value(n.inputs[0]).shape.at(1) * g.value(n.outputs[0]).shape.at(1));
  return s;
}

double activationElements(const Graph& g) {
  double s = 0;
  for (const Value& v : g.values()) {
    if (v.shape.size() < 2) continue;
    double n = 1;
    for (int64_t d : v.shape) n *= double(d);
    s += n;
  }
  return s;
}

Graph shapedYolo() {
  Graph g = test::yoloLike(16);
  inferShapes(g, {3, 32, 32});
  return g;
}

// The injected whole model: its layers, plus `fixedMs`, plus `activationMs` x the
// activation elements it has relative to the unpruned model.
LatencyTable injectedTable(const Graph& g, const DependencyGraph& deps, double fixedMs, double activationMs) {
  LatencyTableOptions o;
  o.timer = macTimer;
  const double full = activationElements(g);
  o.modelTimer = [&](Graph& whole) {
    return layerSum(whole) + fixedMs + activationMs * activationElements(whole) / full;
  };
  return measureLatencyTable(g, deps, {3, 32, 32}, "yoloLike", o);
}

}  // namespace

class TestLatencyTable : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void predictionMatchesTheBuiltModel() {
    Graph g = shapedYolo();
    const DependencyGraph deps(g);
    const LatencyTable t = injectedTable(g, deps, 3.0, 4.0);
    QCOMPARE(t.layerScale, 1.0);
    // The two whole-model measurements separate what shrinks from what does not.
    QVERIFY2(std::abs(t.fixedMs - 3.0) < 1e-9 && std::abs(t.activationMs - 4.0) < 1e-9,
             qPrintable(QString("fixed %1, activation %2").arg(t.fixedMs).arg(t.activationMs)));
    QVERIFY(t.halfMs > 0 && t.halfMs < t.totalMs);
    QVERIFY(t.layers.size() >= 10);
    // The detection heads' outputs are protected: a single output fraction.
    for (const LayerLatency& row : t.layers)
      if (row.node.rfind("model.7", 0) == 0) QCOMPARE(row.outFractions.size(), size_t{1});

    const GroupScores scores = computeImportance(deps, {});
    const PrunePlan plan = planRatios(deps, scores, {}, 0.5, {});
    QVERIFY(!plan.empty());
    const double predicted = predictLatencyMs(t, deps, plan);
    const SurgeryResult cut = applySurgery(deps, plan);
    Graph pruned = cut.graph.clone();
    inferShapes(pruned, {3, 32, 32});
    const double expected = layerSum(pruned) + 3.0 + 4.0 * activationElements(pruned) / activationElements(g);
    QVERIFY2(std::abs(predicted - expected) < 1e-6 * expected,
             qPrintable(QString("predicted %1, built model %2").arg(predicted).arg(expected)));
    // The empty plan predicts the measured whole.
    QVERIFY(std::abs(predictLatencyMs(t, deps, emptyPlan(deps)) - t.totalMs) < 1e-9);
  }

  void plannerLandsAtTheTarget() {
    Graph g = shapedYolo();
    const DependencyGraph deps(g);
    const LatencyTable t = injectedTable(g, deps, 1.0, 1.0);
    const GroupScores scores = computeImportance(deps, {});
    const double target = 0.6 * t.totalMs;
    const PrunePlan plan = planToLatency(deps, scores, t, target, {});
    const double predicted = predictLatencyMs(t, deps, plan);
    QVERIFY2(predicted <= target && predicted > 0.93 * target,
             qPrintable(QString("predicted %1 for target %2").arg(predicted).arg(target)));
    // Out of range targets are errors naming the option.
    QVERIFY(test::errorOf([&] { planToLatency(deps, scores, t, t.totalMs * 1.5, {}); }).find("--target-latency") == 0);
    QVERIFY(test::errorOf([&] { planToLatency(deps, scores, t, 0.0, {}); }).find("--target-latency") == 0);
  }

  void measuringCorrectsAnOptimisticTable() {
    Graph g = shapedYolo();
    const DependencyGraph deps(g);
    PruneRequest r;
    r.mode = PruneRequest::Mode::TargetLatency;
    r.inputShape = {3, 32, 32};
    r.latency = std::make_shared<const LatencyTable>(injectedTable(g, deps, 2.0, 0.0));
    r.targetLatencyMs = 0.6 * r.latency->totalMs;
    // The "machine" is 25 % slower than the table says, on every layer alike.
    LatencyGoalOptions o;
    o.measure = [](Graph& pruned) { return 1.25 * layerSum(pruned) + 2.0; };
    o.tolerance = 0.03;
    const LatencyGoal goal = aimAtLatency(g, r, o);
    // The unpruned model, measured beside every candidate, already says the machine is
    // slower: the first goal is the target's share of it, in the table's units.
    Graph whole = g.clone();
    for (const LatencyRound& round : goal.rounds) QCOMPARE(round.baselineMs, o.measure(whole));
    QVERIFY(goal.rounds.front().goalMs < r.targetLatencyMs);
    QVERIFY2(std::abs(goal.measuredMs - r.targetLatencyMs) <= 0.05 * r.targetLatencyMs,
             qPrintable(QString("measured %1 for target %2").arg(goal.measuredMs).arg(r.targetLatencyMs)));
    QVERIFY(goal.goalMs < r.targetLatencyMs);  // it had to aim lower
    // A table right about the whole model but far too pessimistic about cut ones (time
    // falling with the square of the layers' work, where the table assumes a straight
    // line): the first plan measures far below the target, and the search still brackets
    // and closes in.
    {
      PruneRequest fast = r;
      LatencyGoalOptions slow = o;
      const double full = layerSum(g), total = r.latency->totalMs;
      slow.measure = [full, total](Graph& pruned) { return total * std::pow(layerSum(pruned) / full, 2.0); };
      const LatencyGoal g5 = aimAtLatency(g, fast, slow);
      QVERIFY2(std::abs(g5.measuredMs - r.targetLatencyMs) <= 0.05 * r.targetLatencyMs,
               qPrintable(QString("measured %1 for target %2 in %3 rounds")
                              .arg(g5.measuredMs).arg(r.targetLatencyMs).arg(g5.rounds.size())));
    }
    // The table's prediction of the strongest plan the planner makes.
    const auto strongestMs = [&](const LatencyTable& t) {
      const GroupScores scores = computeImportance(deps, {});
      return predictLatencyMs(t, deps, planToLatency(deps, scores, t, 1e-9, {}, /*strongestIfUnreachable=*/true));
    };
    // Below the fastest plan the table knows, on the slower machine: even the strongest
    // plan measures above the target, and "unreachable" says what it measured.
    {
      PruneRequest near = r;
      near.targetLatencyMs = 0.5 * strongestMs(*r.latency);  // below even its fixed 2 ms
      const std::string e = test::errorOf([&] { aimAtLatency(g, near, o); });
      QVERIFY2(e.find("unreachable: even the strongest plan measured") != std::string::npos, e.c_str());
    }
    // A table whose fixed part is far too large (measured while the machine was busy)
    // predicts that no plan reaches half the latency; the models themselves do, and the
    // measurement decides: no "unreachable", and the target follows the measured baseline.
    {
      PruneRequest busy = r;
      busy.latency = std::make_shared<const LatencyTable>(injectedTable(g, deps, 2 * layerSum(g), 0.0));
      QVERIFY(0.5 * busy.latency->totalMs < strongestMs(*busy.latency));
      LatencyGoalOptions half = o;
      half.targetFraction = 0.5;
      half.measure = [](Graph& m) { return layerSum(m); };
      const LatencyGoal reached = aimAtLatency(g, busy, half);
      QVERIFY2(std::abs(reached.measuredMs / reached.targetMs - 1) <= half.tolerance,
               qPrintable(QString("measured %1 for target %2").arg(reached.measuredMs).arg(reached.targetMs)));
      QVERIFY(std::abs(reached.targetMs - 0.5 * layerSum(g)) < 1e-9);
      QVERIFY(reached.rounds.front().strongest);  // the table's floor, measured and found fast enough
      busy.targetLatencyMs = reached.goalMs;
      busy.strongestIfUnreachable = true;
      Graph built = runPruning(g, busy).graph;
      QVERIFY(std::abs(layerSum(built) - reached.measuredMs) < 1e-9);
    }
    // Planning again at the returned goal gives the model it measured (deterministic).
    r.targetLatencyMs = goal.goalMs;
    const PruneOutcome again = runPruning(g, r);
    Graph built = again.graph.clone();
    QVERIFY(std::abs(o.measure(built) - goal.measuredMs) < 1e-9);
  }

  // Isolated timings that came out slow at narrow widths (a busy machine, a kernel path)
  // would make deeper cuts predict slower and the planner find nothing: every row is kept
  // monotone, and a target well below the whole model stays plannable.
  void slowNarrowTimingsStayPlannable() {
    Graph g = shapedYolo();
    const DependencyGraph deps(g);
    LatencyTableOptions o;
    o.timer = [](const Graph& graph, const Node& n, int64_t in, int64_t out, int batch) {
      const int64_t fullOut = graph.value(n.outputs[0]).shape.at(1);
      return macTimer(graph, n, in, out, batch) * (out * 4 < fullOut ? 100.0 : 1.0);
    };
    o.modelTimer = [](Graph& whole) { return layerSum(whole); };
    const LatencyTable t = measureLatencyTable(g, deps, {3, 32, 32}, "yoloLike", o);
    for (const LayerLatency& row : t.layers) {
      const size_t nOut = row.outFractions.size();
      for (size_t k = 0; k + 1 < row.ms.size(); ++k)
        if ((k + 1) % nOut != 0) QVERIFY2(row.ms[k] <= row.ms[k + 1], qPrintable(QString::fromStdString(row.node)));
    }
    const double target = 0.4 * t.totalMs;
    const PrunePlan plan = planToLatency(deps, computeImportance(deps, {}), t, target, {});
    QVERIFY(predictLatencyMs(t, deps, plan) <= target);
  }

  void roundToFollowsTheSteps() {
    WidthProbe stairs, smooth, flat;
    for (int64_t w = 64; w >= 32; --w) {
      const double noise = 1.0 + 0.005 * double((w * 7) % 3 - 1);
      stairs.widths.push_back(w);
      stairs.ms.push_back(double((w + 7) / 8) * noise);
      smooth.widths.push_back(w);
      smooth.ms.push_back(double(w));
      flat.widths.push_back(w);
      flat.ms.push_back(3.0);
    }
    QCOMPARE(suggestRoundTo(stairs), int64_t{8});
    QCOMPARE(suggestRoundTo(smooth), int64_t{1});
    QCOMPARE(suggestRoundTo(flat), int64_t{1});
  }

  void jsonRoundTripAndMismatch() {
    Graph g = shapedYolo();
    const DependencyGraph deps(g);
    const LatencyTable t = injectedTable(g, deps, 1.0, 0.5);
    const fs::path dir = fs::temp_directory_path() / ("prunelab_latency_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "t.json").string();
    writeLatencyTableJson(t, path);
    const LatencyTable back = readLatencyTableJson(path);
    QCOMPARE(back.layers.size(), t.layers.size());
    QCOMPARE(back.macs, t.macs);
    const PrunePlan plan = planRatios(deps, computeImportance(deps, {}), {}, 0.3, {});
    QCOMPARE(predictLatencyMs(back, deps, plan), predictLatencyMs(t, deps, plan));

    // Another model's table.
    Graph other = test::yoloLike(24);
    inferShapes(other, {3, 32, 32});
    const DependencyGraph otherDeps(other);
    QVERIFY(test::errorOf([&] { checkTableMatches(back, otherDeps, path); }).find(path + ": was measured on a model") == 0);
    // A damaged file: a row with fewer timings than its grid.
    std::string text;
    {
      std::ifstream in(path);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const size_t ms = text.find("\"ms\": [");
    QVERIFY(ms != std::string::npos);
    text.replace(ms, 7, "\"ms\": [99, ");
    std::ofstream(path) << text;
    QVERIFY(test::errorOf([&] { readLatencyTableJson(path); }).find(path + ": layer '") == 0);
    std::ofstream(path) << "[1, 2]";
    QCOMPARE(test::errorOf([&] { readLatencyTableJson(path); }),
             path + ": not a latency table (prunelab-cli latency-table --out)");
    fs::remove_all(dir);
  }

  void realTimingsOnDepthwiseModel() {
    ZooOptions zo;
    zo.numClasses = 10;
    Graph g = buildZooModel("mobilenet_v2", zo);
    inferShapes(g, {3, 32, 32});
    const DependencyGraph deps(g);
    LatencyTableOptions o;
    o.gridSteps = 2;
    o.probeWidths = 4;
    o.wholeModelIters = 3;
    const LatencyTable t = measureLatencyTable(g, deps, {3, 32, 32}, "mobilenet_v2", o);
    int tied = 0, linear = 0;
    for (const LayerLatency& row : t.layers) {
      tied += row.tied;
      linear += deps.graph().findNode(row.node)->op == OpKind::Linear;
      for (double ms : row.ms) QVERIFY(ms > 0);
      if (row.tied) QCOMPARE(row.inFractions.size(), size_t{1});
    }
    QVERIFY(tied >= 10);  // MobileNetV2's depthwise convolutions
    QCOMPARE(linear, 1);
    QVERIFY(t.totalMs > 0);
    QCOMPARE(t.probe.widths.size(), size_t{5});
    QVERIFY(std::abs(predictLatencyMs(t, deps, emptyPlan(deps)) - t.totalMs) < 1e-9 * t.totalMs);
  }
};

QTEST_APPLESS_MAIN(TestLatencyTable)
#include "test_latency_table.moc"
