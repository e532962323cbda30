// Sensitivity sweep and the planner that reads it (issue 18 item 1, pruning/sensitivity.h).
// - Every prunable group is cut alone at every ratio: the metric callback sees exactly that
//   group narrowed, the recorded MACs/params equal the cut model's own count, the metric is
//   the callback's value for that model.
// - planFromSensitivity spends MACs where the table says they are cheap, reaches the target
//   exactly as the combined plan's cost says, and refuses a table made on another model.
// - The JSON file round-trips; a damaged one is refused naming the file.

#include <torch/torch.h>

#include <QtTest/QtTest>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "graph/input_shape.h"
#include "models/yolo/yolo_builder.h"
#include "models/zoo.h"
#include <set>
#include "pruning/sensitivity.h"
#include "pruning/surgery.h"
#include "test_helpers.h"

using namespace prunelab;

namespace {

const Shape kInput{3, 32, 32};

Graph resnet20() {
  Graph g = zoo::cifarResNet(20, 10, 3);
  inferShapes(g, kInput);
  return g;
}

// A metric that depends on the cut: 1 - relative output error against the original model
// on a fixed batch (higher is better, 1 for the unpruned model).
struct OutputFidelity {
  at::Tensor x, reference;
  std::vector<std::string> seenNarrowed;  // per call: the conv layers narrower than in the original
  const Graph* original = nullptr;

  double operator()(const std::shared_ptr<Graph>& g) {
    std::string narrowed;
    for (const Node& n : g->nodes()) {
      if (n.op != OpKind::Conv) continue;
      if (n.tensor("weight").size(0) < original->findNode(n.name)->tensor("weight").size(0))
        narrowed += (narrowed.empty() ? "" : ",") + n.name;
    }
    seenNarrowed.push_back(narrowed);
    const at::Tensor y = runInference(*g, {x})[0];
    return 1.0 - (y - reference).pow(2).sum().item<double>() / reference.pow(2).sum().item<double>();
  }
};

}  // namespace

class TestSensitivity : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void sweepCutsOneGroupAtATime() {
    at::manual_seed(1);
    Graph g = resnet20();
    OutputFidelity fidelity;
    fidelity.original = &g;
    fidelity.x = at::randn({4, 3, 32, 32});
    fidelity.reference = runInference(g, {fidelity.x})[0];
    SensitivityOptions o;
    o.ratios = {0.25, 0.5};
    o.latency = false;
    o.method = SensitivityMethod::Surgery;  // the callback inspects each narrowed model
    o.stopBelow = 0;
    o.importance.criterion = Criterion::L1;
    int calls = 0;
    const SensitivityTable t = sweepSensitivity(
        g, kInput, [&](const std::shared_ptr<Graph>& m) { return fidelity(m); }, o,
        [&](int done, int total, const std::string&, double) {
          ++calls;
          return done <= total;
        });
    const DependencyGraph deps(g);
    int prunable = 0;
    for (const Group& grp : deps.groups()) prunable += grp.prunable();
    QCOMPARE(static_cast<int>(t.rows.size()), prunable);
    QCOMPARE(calls, prunable * 2);
    QCOMPARE(t.baseline, 1.0);
    QCOMPARE(t.macs, computeCost(g).macs);
    QCOMPARE(fidelity.seenNarrowed.front(), std::string());  // the first call: the unpruned model
    size_t call = 1;
    for (const SensitivityRow& row : t.rows) {
      QCOMPARE(row.cells.size(), size_t(2));
      for (const SensitivityCell& c : row.cells) {
        QCOMPARE(c.removed, channelsForRatio(c.ratio, row.channels));
        // The callback saw this group's first source narrowed (and only this group's sources).
        const std::string& seen = fidelity.seenNarrowed.at(call++);
        QVERIFY2(seen.find(row.group) != std::string::npos, qPrintable(QString::fromStdString(row.group + " vs " + seen)));
        QVERIFY(c.macs < t.macs && c.params < t.params);
        QVERIFY2(c.metric < 1.0, row.group.c_str());
      }
      QVERIFY(row.cells[1].macs < row.cells[0].macs);
    }
    QCOMPARE(call, fidelity.seenNarrowed.size());

    // Recorded costs are the cut model's own.
    const SensitivityRow& row = t.rows.at(3);
    const int gid = [&] {
      for (const Group& grp : deps.groups())
        if (grp.name == row.group) return grp.id;
      return -1;
    }();
    QVERIFY(gid >= 0);
    PrunePlan p;
    p.removed.resize(deps.groups().size());
    const GroupScores scores = computeImportance(deps, o.importance);
    p.removed[gid] = chooseChannels(deps.groups()[gid], scores[gid], row.cells[1].removed, o.constraints);
    SurgeryResult cut = applySurgery(deps, p);
    QCOMPARE(computeCost(cut.graph).macs, row.cells[1].macs);
    QCOMPARE(computeCost(cut.graph).params, row.cells[1].params);
  }

  // With its halves analysed apart, YOLO's C2f cv1 is the first source of two groups (both
  // halves of its output): each gets its own key, so the planner never reads one half's row
  // for the other. (By default the halves of an ultralytics model are one group.)
  void repeatedGroupNamesGetTheirOwnKeys() {
    YoloOptions yo;
    yo.inputSize = 64;
    Graph g = buildYoloModel("yolov8n", yo);
    inferShapes(g, defaultInputShape(g));
    DependencyGraph::Options free;
    free.splitHalves = DependencyGraph::Options::SplitHalves::Free;
    const DependencyGraph deps(g, free);
    const auto tiedKeys = sensitivityKeys(DependencyGraph(g));
    QVERIFY(std::count(tiedKeys.begin(), tiedKeys.end(), "model.2.cv1.conv#2") == 0);
    const auto keys = sensitivityKeys(deps);
    QCOMPARE(keys.size(), deps.groups().size());
    QCOMPARE(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
    QVERIFY(std::count(keys.begin(), keys.end(), "model.2.cv1.conv") == 1);
    QVERIFY(std::count(keys.begin(), keys.end(), "model.2.cv1.conv#2") == 1);
  }

  void cancelStopsTheSweep() {
    Graph g = resnet20();
    SensitivityOptions o;
    o.ratios = {0.5};
    o.latency = false;
    const SensitivityTable t = sweepSensitivity(
        g, kInput, [](const std::shared_ptr<Graph>&) { return 0.5; }, o,
        [](int done, int, const std::string&, double) { return done < 3; });
    QCOMPARE(t.rows.size(), size_t(3));
  }

  void plannerSpendsWhereItIsCheap() {
    Graph g = resnet20();
    const DependencyGraph deps(g);
    ImportanceOptions io;
    io.criterion = Criterion::L1;
    const GroupScores scores = computeImportance(deps, io);
    // A table by hand: every group loses 0.5 at any ratio except layer3.1.conv1's and
    // layer3.2.conv1's groups, which are free. MACs per cell from the exact estimate.
    SensitivityTable t;
    t.macs = computeCost(g).macs;
    t.params = computeCost(g).params;
    t.baseline = 0.9;
    t.ratios = {0.3, 0.6, 0.9};
    for (const Group& grp : deps.groups()) {
      if (!grp.prunable()) continue;
      SensitivityRow row;
      row.group = grp.name;
      row.channels = grp.size;
      for (double r : t.ratios) {
        PrunePlan p;
        p.removed.resize(deps.groups().size());
        p.removed[grp.id] = chooseChannels(grp, scores[grp.id], channelsForRatio(r, grp.size), {});
        const bool free = grp.name == "layer3.1.conv1" || grp.name == "layer3.2.conv1";
        row.cells.push_back({r, int64_t(p.removed[grp.id].size()), free ? 0.9 : 0.4, 0, estimateCost(deps, p).macs, -1});
      }
      t.rows.push_back(row);
    }
    QVERIFY(t.row("layer3.1.conv1") && t.row("layer3.2.conv1"));
    // Target: what the two free groups at 90 % save, and no more.
    PrunePlan both;
    both.removed.resize(deps.groups().size());
    for (const char* name : {"layer3.1.conv1", "layer3.2.conv1"}) {
      const Group& grp = deps.groups()[deps.groupOfSource(g.findNode(name)->id)];
      both.removed[grp.id] = chooseChannels(grp, scores[grp.id], channelsForRatio(0.9, grp.size), {});
    }
    const int64_t target = estimateCost(deps, both).macs;
    const SensitivityPlan plan = planFromSensitivity(t, deps, scores, target, {});
    QCOMPARE(plan.macs, target);
    QCOMPARE(plan.predictedDrop, 0.0);
    QCOMPARE(plan.ratios.size(), size_t(2));
    for (const auto& [group, ratio] : plan.ratios) {
      QVERIFY(group == "layer3.1.conv1" || group == "layer3.2.conv1");
      QCOMPARE(ratio, 0.9);
    }
    // One MAC further: a costly group must go too.
    const SensitivityPlan more = planFromSensitivity(t, deps, scores, target - 1, {});
    QVERIFY(more.macs <= target - 1);
    QVERIFY(more.predictedDrop > 0.0);
    QCOMPARE(more.macs, estimateCost(deps, more.plan).macs);

    // A table made on another model, an unreachable target.
    Graph other = zoo::cifarResNet(32, 10, 3);
    inferShapes(other, kInput);
    const DependencyGraph otherDeps(other);
    const std::string e1 = test::errorOf([&] { planFromSensitivity(t, otherDeps, computeImportance(otherDeps, io), target, {}); });
    QVERIFY2(e1.find("made on a model with") != std::string::npos, e1.c_str());
    const std::string e2 = test::errorOf([&] { planFromSensitivity(t, deps, scores, 1000, {}); });
    QVERIFY2(e2.find("cannot reach") != std::string::npos, e2.c_str());
  }

  void jsonRoundTripsAndRefusesDamage() {
    Graph g = resnet20();
    SensitivityOptions o;
    o.ratios = {0.5};
    o.latency = false;
    SensitivityTable t = sweepSensitivity(g, kInput, [](const std::shared_ptr<Graph>& m) {
      return double(computeCost(*m).macs) / 1e9;
    }, o);
    t.model = "resnet20";
    t.metric = "top1";
    const QTemporaryDir dir;
    const std::string path = dir.filePath("s.json").toStdString();
    writeSensitivityJson(t, path);
    const SensitivityTable r = readSensitivityJson(path);
    QCOMPARE(r.rows.size(), t.rows.size());
    QCOMPARE(r.macs, t.macs);
    QCOMPARE(r.rows[2].cells[0].macs, t.rows[2].cells[0].macs);
    QCOMPARE(r.rows[2].cells[0].metric, t.rows[2].cells[0].metric);
    QCOMPARE(r.criterion, std::string("l2"));
    {
      std::ofstream(path) << "{\"format\": \"prunelab-sensitivity-1\", \"model\": 3}";
    }
    const std::string e = test::errorOf([&] { readSensitivityJson(path); });
    QVERIFY2(e.find(path) == 0 && e.find("malformed") != std::string::npos, e.c_str());
  }

  // The CLI on the demo classifier (a ResNet-20 trained on Fashion-MNIST): the table, the
  // heat map, a plan from it that reaches the target, and bad options named.
  void cliSweepsAndPlans() {
    const QTemporaryDir dir;
    const QString table = dir.filePath("s.json"), pruned = dir.filePath("p.plm");
    const QString demo = QString(PRUNELAB_SOURCE_DIR) + "/resources/demo/classifier.plm";
    auto r = test::runCli({"sensitivity", "--model", demo, "--data", "fashion-mnist", "--val-images", "64", "--ratios",
                           "0.3,0.8", "--no-latency", "--out", table});
    QVERIFY2(r.code == 0, r.err.c_str());
    QVERIFY2(r.out.find("drop per cut") != std::string::npos && r.out.find("layer3.2.conv1") != std::string::npos,
             r.out.c_str());
    const SensitivityTable t = readSensitivityJson(table.toStdString());
    QCOMPARE(t.metric, std::string("top1"));
    QCOMPARE(t.valImages, int64_t(64));
    QCOMPARE(t.ratios, (std::vector<double>{0.3, 0.8}));
    QVERIFY(t.rows.size() >= 10);
    QVERIFY(t.baseline > 0.5);  // a trained model
    for (const auto& row : t.rows) QCOMPARE(row.cells.size(), size_t(2));

    const int64_t target = t.macs / 2;
    r = test::runCli({"prune", "--model", demo, "--from-sensitivity", table, "--target-macs", QString::number(target),
                      "--out", pruned, "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    const auto j = nlohmann::json::parse(r.out);
    QVERIFY(j["macs_after"].get<int64_t>() <= target);
    QCOMPARE(j["criterion"].get<std::string>(), std::string("l1"));  // the table's

    r = test::runCli({"sensitivity", "--model", demo, "--data", "fashion-mnist", "--ratios", "0.5,1.5", "--out", table});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("--ratios") != std::string::npos, r.err.c_str());
    r = test::runCli({"prune", "--model", demo, "--from-sensitivity", dir.filePath("none.json"), "--target-macs", "10M",
                      "--out", pruned});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("none.json") != std::string::npos, r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestSensitivity)
#include "test_sensitivity.moc"
