// PruneModel: the GUI's editable plan over a graph skeleton. Its global percent must
// be core's planner's, its what-if real surgery's, and hand edits must respect pinned
// channels, the minimum per layer and round-to.

#include <QtTest/QtTest>

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "analysis/cost.h"
#include "gui/prune_model.h"
#include "analysis/shape_inference.h"
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
  void globalPercentMatchesCorePlanner();
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

void TestPruneModel::globalPercentMatchesCorePlanner() {
  const Graph g = resnet20();
  const DependencyGraph deps(g);
  for (const char* criterion : {"bn", "l2"}) {
    const auto scores = scoresOf(g, parseCriterion(criterion));
    for (ScoreNormalization n : {ScoreNormalization::Auto, ScoreNormalization::None, ScoreNormalization::GroupMean}) {
      PruneModel m;
      m.setGraph(std::make_shared<const Graph>(g.skeleton()));
      m.setScores(scores, criterion);
      PlanConstraints c;
      c.normalize = n;
      m.setConstraints(c);
      c.scoresComparable = scoresCompareAcrossLayers(criterion);  // as runPruning sets it from the criterion
      for (double p : {0.1, 0.3, 0.5}) {
        m.setGlobalPercent(p);
        const PrunePlan core = planGlobalPercent(deps, scores, p, c);
        QVERIFY2(m.plan().removed == core.removed,
                 qPrintable(QString("%1 %2 p %3: core %4, gui %5")
                                .arg(criterion, normalizationName(n).c_str())
                                .arg(p)
                                .arg(core.removedCount())
                                .arg(m.plan().removedCount())));
      }
      QCOMPARE(m.highestSafePercent(), highestSafePercent(deps, scores, c));
    }
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
