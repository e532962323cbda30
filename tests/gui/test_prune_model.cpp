// PruneModel: the GUI's editable plan over a graph skeleton. Its global percent must
// remove the channels counted by hand, its what-if real surgery's, and hand edits must respect pinned
// channels, the minimum per layer and round-to.

#include <QtTest/QtTest>

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "analysis/cost.h"
#include "gui/prune_model.h"
#include "analysis/shape_inference.h"
#include "models/graph_builder.h"
#include "models/yolo/yolo_builder.h"
#include "models/yolo/yolo_yaml_widths.h"
#include "models/zoo.h"
#include "pruning/plan_log.h"
#include "pruning/importance.h"
#include "pruning/surgery.h"
#include "util/error.h"

using namespace prunelab;
using namespace prunelab::gui;

class TestPruneModel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void skeletonHasNoData();
  void globalPercentRemovesTheHandCountedChannels();
  void whatIfEqualsSurgery();
  void editsRespectConstraints();
  void toggleRespectsRoundTo();
  void yamlWidthsKeepToTheYaml();
};

namespace {

Graph resnet20() {
  ZooOptions o;
  o.numClasses = 10;
  o.seed = 3;
  Graph g = buildZooModel("resnet20", o);
  // Spread the BN gammas so bn scores differ between channels and layers.
  torch::manual_seed(5);
  for (Node& n : g.nodes())
    if (n.op == OpKind::BatchNorm) n.tensor("weight").uniform_(0.0, 1.0);
  return g;
}

std::vector<std::vector<double>> scoresOf(const Graph& g, Criterion c) {
  const DependencyGraph deps(g);
  ImportanceOptions io;
  io.criterion = c;
  return computeImportance(deps, io);
}
std::vector<std::vector<double>> bnScores(const Graph& g) { return scoresOf(g, Criterion::BnScale); }

int64_t keptOf(const PruneModel& m, int g) {
  return m.deps().groups()[g].size - static_cast<int64_t>(m.plan().removed[g].size());
}

}  // namespace

void TestPruneModel::skeletonHasNoData() {
  const Graph g = resnet20();
  const Graph s = g.skeleton();
  QCOMPARE(s.parameterCount(), g.parameterCount());
  QCOMPARE(computeCost(s).macs, computeCost(g).macs);
  for (const Node& n : s.nodes())
    for (const NamedTensor& t : n.tensors) QVERIFY(t.tensor.is_meta());
}

// Two prunable layers with scores chosen by hand, 12 channels in all:
//   a (8 channels): 0.1 0.9 0.2 0.8 0.25 0.7 0.4 0.6   (mean 0.49375)
//   b (4 channels): 0.3 1.0 0.35 1.2                     (mean 0.7125)
// A global percent p removes the channels ranked below the score at index floor(12 p) of all
// ranked scores. Raw scores (bn, or --normalize none), p = 0.25: the 4th lowest is 0.3, below
// it a0, a2, a4. Divided by the layer's mean (l2 under auto, or --normalize mean): a becomes
// 0.203 1.823 0.405 1.620 0.506 1.418 0.810 1.215, b 0.421 1.404 0.491 1.684; the 4th lowest
// is 0.491 (b2), below it a0, a2, b0. At p = 0.5 raw: below 0.6 are a0 a2 a4 a6 and b0 b2; with
// round-to 4 and at least 2 kept, b (4 channels) cannot keep 2 and stays whole.
// The highest safe percent is the share of scores below the smallest layer maximum: raw 9/12
// (below a's 0.9), by mean 10/12 (below b's 1.684).
void TestPruneModel::globalPercentRemovesTheHandCountedChannels() {
  auto g = std::make_shared<Graph>();
  GraphBuilder b(*g);
  ValueId x = b.input("x", {3, 8, 8});
  x = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "a", 8, 3, 1, 1), "a_bn"), "a_act");
  x = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "b", 4, 3, 1, 1), "b_bn"), "b_act");
  b.output(b.conv(x, "head", 2, 1));
  inferShapes(*g, {3, 8, 8});
  const std::vector<double> a = {0.1, 0.9, 0.2, 0.8, 0.25, 0.7, 0.4, 0.6}, bs = {0.3, 1.0, 0.35, 1.2};

  struct Case {
    const char* criterion;
    ScoreNormalization normalize;
    double percent;
    PlanConstraints limits;
    std::vector<int64_t> fromA, fromB;
    double safe;
  };
  const PlanConstraints none{};
  PlanConstraints min2round4;
  min2round4.minChannels = 2;
  min2round4.roundTo = 4;
  const std::vector<Case> cases = {
      {"bn", ScoreNormalization::Auto, 0.25, none, {0, 2, 4}, {}, 9.0 / 12},
      {"bn", ScoreNormalization::None, 0.25, none, {0, 2, 4}, {}, 9.0 / 12},
      {"l2", ScoreNormalization::None, 0.25, none, {0, 2, 4}, {}, 9.0 / 12},
      {"bn", ScoreNormalization::GroupMean, 0.25, none, {0, 2}, {0}, 10.0 / 12},
      {"l2", ScoreNormalization::Auto, 0.25, none, {0, 2}, {0}, 10.0 / 12},
      {"bn", ScoreNormalization::Auto, 0.5, none, {0, 2, 4, 6}, {0, 2}, 9.0 / 12},
      {"bn", ScoreNormalization::Auto, 0.5, min2round4, {0, 2, 4, 6}, {}, 9.0 / 12},
  };
  for (const Case& c : cases) {
    PruneModel m;
    m.setGraph(std::make_shared<const Graph>(g->skeleton()));
    const int ga = m.groupOfLayer("a"), gb = m.groupOfLayer("b");
    QVERIFY(ga >= 0 && gb >= 0 && ga != gb);
    std::vector<std::vector<double>> scores(m.deps().groups().size());
    for (const Group& grp : m.deps().groups()) scores[grp.id].assign(grp.size, 5.0);  // any other group: not prunable
    scores[ga] = a;
    scores[gb] = bs;
    m.setScores(scores, c.criterion);
    PlanConstraints limits = c.limits;
    limits.normalize = c.normalize;
    m.setConstraints(limits);
    m.setGlobalPercent(c.percent);
    const QByteArray what =
        QString("%1 %2 p %3 min %4 round %5")
            .arg(c.criterion, normalizationName(c.normalize).c_str())
            .arg(c.percent)
            .arg(c.limits.minChannels)
            .arg(c.limits.roundTo)
            .toUtf8();
    QVERIFY2(m.plan().removed[ga] == c.fromA, what.constData());
    QVERIFY2(m.plan().removed[gb] == c.fromB, what.constData());
    QCOMPARE(m.plan().removedCount(), static_cast<int64_t>(c.fromA.size() + c.fromB.size()));
    QVERIFY2(std::abs(m.highestSafePercent() - c.safe) < 1e-12, what.constData());
  }
}

void TestPruneModel::whatIfEqualsSurgery() {
  const Graph g = resnet20();
  PruneModel m;
  m.setGraph(std::make_shared<const Graph>(g.skeleton()));
  m.setScores(bnScores(g), "bn");
  m.setConstraints(PlanConstraints{2, 4});
  m.setGlobalPercent(0.4);
  m.setLayerRatio("layer1.0.conv1", 0.75);
  m.toggleChannels("layer3.1.conv1", {0, 1, 2}, true);
  const CostEstimate est = m.whatIf();
  // The plan travels to the worker as a log keyed by layer name; replay it on the real graph.
  const DependencyGraph deps(g);
  const SurgeryResult r = applySurgery(deps, planFromLog(deps, m.planLog()));
  const GraphCost real = computeCost(r.graph);
  QCOMPARE(est.params, real.params);
  QCOMPARE(est.macs, real.macs);
  QCOMPARE(est.sizeBytes, real.sizeBytes);
}

void TestPruneModel::editsRespectConstraints() {
  const Graph g = resnet20();
  PruneModel m;
  m.setGraph(std::make_shared<const Graph>(g.skeleton()));
  m.setScores(bnScores(g), "bn");
  m.setConstraints(PlanConstraints{4, 1});
  // layer1.0.conv1 has 16 channels: at most 12 can go with a minimum of 4.
  std::vector<int64_t> all(16);
  std::iota(all.begin(), all.end(), 0);
  m.toggleChannels("layer1.0.conv1", all, true);
  const int g1 = m.groupOfLayer("layer1.0.conv1");
  QCOMPARE(static_cast<int64_t>(m.plan().removed[g1].size()), int64_t(12));
  m.setLayerRatio("layer1.0.conv1", 0.95);
  QCOMPARE(static_cast<int64_t>(m.plan().removed[g1].size()), int64_t(12));
  // An unknown layer name is an error for the log panel, not a crash.
  bool threw = false;
  try {
    m.setLayerRatio("no.such.layer", 0.5);
  } catch (const std::exception&) {
    threw = true;
  }
  QVERIFY(threw);
}

void TestPruneModel::toggleRespectsRoundTo() {
  const Graph g = resnet20();
  PruneModel m;
  m.setGraph(std::make_shared<const Graph>(g.skeleton()));
  m.setScores(bnScores(g), "bn");
  m.setConstraints(PlanConstraints{2, 8});
  const int grp = m.groupOfLayer("layer2.0.conv1");  // 32 channels, none pinned
  QCOMPARE(m.deps().groups()[grp].size, int64_t(32));
  const std::vector<double>& s = m.scores()[grp];
  const int64_t best = std::max_element(s.begin(), s.end()) - s.begin();

  // Pruning one bar keeps 24, the next width round-to allows below 32: the clicked
  // channel goes (even the most important one) and the 7 lowest-scored others with it.
  QCOMPARE(m.toggleChannels("layer2.0.conv1", {best}, true), int64_t(7));
  QCOMPARE(keptOf(m, grp), int64_t(24));
  const auto& removed = m.plan().removed[grp];
  QVERIFY(std::binary_search(removed.begin(), removed.end(), best));
  double maxOther = -1, minKept = 1e300;
  for (int64_t k = 0; k < 32; ++k) {
    const bool gone = std::binary_search(removed.begin(), removed.end(), k);
    if (gone && k != best) maxOther = std::max(maxOther, s[k]);
    if (!gone) minKept = std::min(minKept, s[k]);
  }
  QVERIFY(maxOther <= minKept);

  // A drag across 8 more bars is already a multiple: exactly those go.
  const std::vector<int64_t> before = removed;
  std::vector<int64_t> drag;
  for (int64_t k = 0; k < 32 && drag.size() < 8; ++k)
    if (!std::binary_search(before.begin(), before.end(), k)) drag.push_back(k);
  QCOMPARE(m.toggleChannels("layer2.0.conv1", drag, true), int64_t(0));
  QCOMPARE(keptOf(m, grp), int64_t(16));
  for (int64_t k : drag) QVERIFY(std::binary_search(m.plan().removed[grp].begin(), m.plan().removed[grp].end(), k));

  // Keeping one bar rounds up as the planner does: back to 24, the clicked channel and
  // the 7 highest-scored removed ones.
  const int64_t back = drag.front();
  QCOMPARE(m.toggleChannels("layer2.0.conv1", {back}, false), int64_t(7));
  QCOMPARE(keptOf(m, grp), int64_t(24));
  QVERIFY(!std::binary_search(m.plan().removed[grp].begin(), m.plan().removed[grp].end(), back));

  // Clicking a channel already in that state changes nothing.
  const std::vector<int64_t> now = m.plan().removed[grp];
  QCOMPARE(m.toggleChannels("layer2.0.conv1", {now.front()}, true), int64_t(0));
  QCOMPARE(m.plan().removed[grp], now);

  // Down to the least allowed width (min 2 rounded up to 8), then one more click is
  // refused with a message naming the layer and the limits, and the plan stays.
  std::vector<int64_t> all(32);
  std::iota(all.begin(), all.end(), 0);
  m.toggleChannels("layer2.0.conv1", all, true);
  QCOMPARE(keptOf(m, grp), int64_t(8));
  const std::vector<int64_t> atLeast = m.plan().removed[grp];
  int64_t kept = -1;
  for (int64_t k = 0; k < 32; ++k)
    if (!std::binary_search(atLeast.begin(), atLeast.end(), k)) kept = k;
  QString message;
  try {
    m.toggleChannels("layer2.0.conv1", {kept}, true);
  } catch (const Error& e) {
    message = e.what();
  }
  QVERIFY2(message.contains("layer2.0.conv1") && message.contains("round-to 8") && message.contains("min channels 2"),
           qPrintable(message));
  QCOMPARE(m.plan().removed[grp], atLeast);

  // Every width along the way was one the planner itself could produce.
  const PrunePlan planned = planLayerAmount(m.deps(), m.scores(), "layer2.0.conv1", 0.9, m.constraints());
  QCOMPARE(static_cast<int64_t>(32 - planned.removed[grp].size()), int64_t(8));
}

QTEST_GUILESS_MAIN(TestPruneModel)
#include "test_prune_model.moc"

namespace {

int64_t outWidth(const Graph& g, const std::string& conv) {
  const Node* n = g.findNode(conv);
  return n ? n->tensor("weight").size(0) : -1;
}

// What yolov5's parse_model would not build from a YAML: a module output off a multiple of
// 8, a C3 whose cv1/cv2/bottleneck widths differ, an SPPF hidden width other than c1 // 2.
std::vector<std::string> yamlViolations(const Graph& cut) {
  std::vector<std::string> bad;
  for (const YoloYamlLayer& L : yoloYamlLayers(cut)) {
    const std::string p = "model." + std::to_string(L.index) + ".";
    const std::string out = L.module == "Conv" ? p + "conv" : L.module == "C3" ? p + "cv3.conv" : p + "cv2.conv";
    if ((L.module == "Conv" || L.module == "C3" || L.module == "SPPF") && outWidth(cut, out) % 8 != 0)
      bad.push_back(out + " " + std::to_string(outWidth(cut, out)));
    if (L.module == "C3") {
      const int64_t h = outWidth(cut, p + "cv1.conv");
      std::vector<std::string> inner = {p + "cv2.conv"};
      for (int j = 0; outWidth(cut, p + "m." + std::to_string(j) + ".cv1.conv") > 0; ++j)
        for (const char* c : {".cv1.conv", ".cv2.conv"}) inner.push_back(p + "m." + std::to_string(j) + c);
      for (const auto& c : inner)
        if (outWidth(cut, c) != h) bad.push_back(c + " " + std::to_string(outWidth(cut, c)) + " != " + std::to_string(h));
    }
    if (L.module == "SPPF") {
      const Node* cv1 = cut.findNode(p + "cv1.conv");
      if (outWidth(cut, p + "cv1.conv") != cut.value(cv1->inputs[0]).shape.at(1) / 2) bad.push_back(p + "cv1.conv");
    }
  }
  return bad;
}

}  // namespace

// The "widths the model's YAML can state" box: PruneModel's plans then keep to the rules
// yolov5's parse_model builds by (checked here on the cut model, rule by rule), which a
// plan without it breaks; a model without a YAML plans as before.
void TestPruneModel::yamlWidthsKeepToTheYaml() {
  YoloOptions o;
  o.nc = 3;
  Graph g = buildYoloModel("yolov5n", o);
  inferShapes(g, {3, 64, 64});
  const auto scores = scoresOf(g, Criterion::L2);
  const auto cutWith = [&](bool yamlWidths) {
    PruneModel m;
    m.setGraph(std::make_shared<const Graph>(g.skeleton()));
    m.setScores(scores, "l2");
    m.setConstraints(PlanConstraints{}, yamlWidths);
    m.setGlobalPercent(0.5);
    const DependencyGraph deps(g);
    Graph cut = applySurgery(deps, planFromLog(deps, m.planLog())).graph;
    inferShapes(cut, {3, 64, 64});
    return std::make_pair(m.whatIf(), std::move(cut));
  };
  const auto [fitCost, fitCut] = cutWith(true);
  const auto [freeCost, freeCut] = cutWith(false);
  const auto bad = yamlViolations(fitCut);
  QVERIFY2(bad.empty(), bad.empty() ? "" : bad.front().c_str());
  QVERIFY(!yamlViolations(freeCut).empty());
  QVERIFY(fitCost.params < computeCost(g).params * 0.6);  // still a cut
  QVERIFY(fitCost.params != freeCost.params);

  // A model without a YAML: the box changes nothing.
  const Graph r = resnet20();
  PruneModel a, b;
  for (PruneModel* m : {&a, &b}) {
    m->setGraph(std::make_shared<const Graph>(r.skeleton()));
    m->setScores(bnScores(r), "bn");
  }
  a.setConstraints(PlanConstraints{}, true);
  b.setConstraints(PlanConstraints{}, false);
  a.setGlobalPercent(0.4);
  b.setGlobalPercent(0.4);
  QCOMPARE(a.plan().removed, b.plan().removed);
}
