// Pruning core: dependency groups, planners, surgery exactness (property test over
// random plans), what-if estimates, beta folding and the seed 001 scenario.

#include <ATen/ATen.h>

#include <QtTest/QtTest>
#include <random>

#include "../support/synthetic_models.h"
#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "models/model_loader.h"
#include "models/zoo.h"
#include "pruning/pruner.h"
#include "util/error.h"

using namespace prunelab;

namespace {

Graph zooModel(const std::string& name, const Shape& input, int64_t classes = 10) {
  ZooOptions o;
  o.numClasses = classes;
  Graph g = buildZooModel(name, o);
  test::randomiseBatchNorm(g, 7);
  inferShapes(g, input);
  return g;
}

int groupOf(const DependencyGraph& d, const std::string& name) { return d.groupOfSource(d.graph().findNode(name)->id); }

// Zeroes what the plan removes: source weights/biases and BN gamma/beta of those channels.
Graph maskedCopy(const DependencyGraph& deps, const PrunePlan& plan) {
  Graph g = deps.graph().clone();
  at::NoGradGuard ng;
  for (size_t gi = 0; gi < plan.removed.size(); ++gi) {
    if (plan.removed[gi].empty()) continue;
    for (const GroupMember& m : deps.members(static_cast<int>(gi))) {
      if (!m.isOutput) continue;
      const Node& n = g.node(m.node);
      if (n.op != OpKind::Conv && n.op != OpKind::Linear && n.op != OpKind::BatchNorm) continue;
      if (m.tensor != "weight" && m.tensor != "bias") continue;
      at::Tensor t = g.node(m.node).tensor(m.tensor);
      for (int64_t k : plan.removed[gi])
        for (int64_t i : m.indices[k]) t.select(m.dim, i).zero_();
    }
  }
  return g;
}

PrunePlan randomPlan(const DependencyGraph& deps, std::mt19937_64& rng) {
  PrunePlan plan;
  plan.removed.resize(deps.groups().size());
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (const Group& g : deps.groups()) {
    if (!g.prunable() || u(rng) < 0.3) continue;  // leave some groups whole
    std::vector<int64_t> free;
    for (int64_t k = 0; k < g.size; ++k)
      if (!g.pinned[k]) free.push_back(k);
    std::shuffle(free.begin(), free.end(), rng);
    int64_t n = static_cast<int64_t>(u(rng) * 0.9 * double(free.size()));
    n = std::min<int64_t>(n, g.size - 1);
    free.resize(static_cast<size_t>(n));
    std::sort(free.begin(), free.end());
    plan.removed[g.id] = free;
  }
  return plan;
}

}  // namespace

class TestPruning : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void resnetGroups() {
    Graph g = zooModel("resnet18", {3, 32, 32});
    const DependencyGraph d(g);
    // The stem and every layer1 block output are tied through the residual Adds.
    QCOMPARE(groupOf(d, "conv1"), groupOf(d, "layer1.0.conv2"));
    QCOMPARE(groupOf(d, "conv1"), groupOf(d, "layer1.1.conv2"));
    QCOMPARE(groupOf(d, "layer2.0.downsample.0"), groupOf(d, "layer2.1.conv2"));
    QVERIFY(groupOf(d, "layer2.0.conv1") != groupOf(d, "layer2.0.conv2"));
    const Group& inner = d.groups()[groupOf(d, "layer2.0.conv1")];
    QCOMPARE(inner.size, int64_t(128));
    QCOMPARE(inner.sources.size(), size_t(1));
    QVERIFY(inner.prunable());
    QVERIFY(!d.groups()[groupOf(d, "fc")].prunable());  // logits are protected
    // Members: conv1 out (w), bn1 (w, b, mean, var), conv2 in (w).
    const auto members = d.members(inner.id);
    QCOMPARE(members.size(), size_t(6));
    const Group& stage4 = d.groups()[groupOf(d, "layer4.0.conv2")];
    bool fcIn = false;
    for (const auto& m : d.members(stage4.id)) fcIn |= d.graph().node(m.node).name == "fc" && !m.isOutput;
    QVERIFY(fcIn);  // Flatten -> Linear maps the stage's channels into fc's inputs
  }

  void yoloLikeGroups() {
    Graph g = test::yoloLike();
    inferShapes(g, Shape{3, 32, 32});
    const DependencyGraph d(g);
    // C2f: the split's first half belongs to cv1 alone, its second half is tied to the
    // bottleneck outputs through the shortcut Adds.
    const Node* cv1 = g.findNode("model.1.cv1.conv");
    const auto first = d.locate(cv1->outputs[0], 0), second = d.locate(cv1->outputs[0], 31);
    QVERIFY(first.first >= 0 && second.first >= 0 && first.first != second.first);
    QCOMPARE(d.groups()[second.first].sources.size(), size_t(3));  // cv1, m.0.cv2, m.1.cv2
    QVERIFY(!d.groups()[groupOf(d, "model.7.cv3")].prunable());
    // Protected scopes pin their layers.
    DependencyGraph::Options o;
    o.protectedScopes = {"model.3"};
    const DependencyGraph p(g, o);
    QVERIFY(!p.groups()[groupOf(p, "model.3.cv1.conv")].prunable());
  }

  void seed001Scenario() {
    Graph g = zooModel("resnet18", {3, 32, 32});
    PruneRequest r;
    r.mode = PruneRequest::Mode::LayerAmount;
    r.layer = "layer2.0.conv1";
    r.amount = 0.2;
    r.inputShape = {3, 32, 32};
    r.importance.criterion = Criterion::Activation;
    r.importance.calibration = {at::randn({16, 3, 32, 32})};
    const PruneOutcome out = runPruning(g, r);
    const GraphCost c = computeCost(out.graph);
    QCOMPARE(c.params, int64_t(11138392));
    QCOMPARE(QString::number(c.macs / 1e6, 'f', 2), QString("36.33"));  // the seed's torchinfo table
    QCOMPARE(c.macs, int64_t(36334936));  // exact: tests/python/count_macs.py resnet18_seed001
    QCOMPARE(out.graph.findNode("layer2.0.conv1")->tensor("weight").size(0), int64_t(103));
    QCOMPARE(out.graph.findNode("layer2.0.conv2")->tensor("weight").size(1), int64_t(103));
  }

  // The core property: pruning channels whose outputs are zeroed changes nothing, the
  // what-if estimate equals a fresh count of the pruned graph, and the input graph is
  // untouched. 1000+ random plans over six architectures.
  void randomPlansAreExact_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("plans");
    QTest::newRow("resnet18") << "resnet18" << 100;
    QTest::newRow("resnet20") << "resnet20" << 250;
    QTest::newRow("resnet56") << "resnet56" << 120;
    QTest::newRow("vgg16_bn") << "vgg16_bn" << 80;
    QTest::newRow("mobilenet_v2") << "mobilenet_v2" << 200;
    QTest::newRow("yolo_like") << "yolo_like" << 260;
  }
  void randomPlansAreExact() {
    QFETCH(QString, model);
    QFETCH(int, plans);
    Graph g = model == "yolo_like" ? test::yoloLike() : zooModel(model.toStdString(), {3, 32, 32});
    if (model == "yolo_like") {
      test::randomiseBatchNorm(g, 3);
      inferShapes(g, Shape{3, 32, 32});
    }
    const DependencyGraph deps(g);
    const at::Tensor x = at::randn({2, 3, 32, 32});
    const auto before = g.stateDict();
    std::vector<at::Tensor> snapshot;
    for (const auto& [k, t] : before) snapshot.push_back(t.clone());
    std::mt19937_64 rng(static_cast<uint64_t>(qHash(model)));
    SurgeryOptions so;
    so.forwardCheck = false;  // checked below on real inputs
    for (int i = 0; i < plans; ++i) {
      const PrunePlan plan = randomPlan(deps, rng);
      Graph masked = maskedCopy(deps, plan);
      const SurgeryResult cut = applySurgery(deps, plan, so);
      Graph pruned = cut.graph.share();
      const auto ya = runInference(masked, {x});
      const auto yb = runInference(pruned, {x});
      for (size_t o = 0; o < ya.size(); ++o) {
        const double scale = std::max(1.0, ya[o].abs().max().item<double>());
        const double diff = (ya[o] - yb[o]).abs().max().item<double>();
        QVERIFY2(diff <= 1e-5 * scale, qPrintable(QString("plan %1 output %2: diff %3 (scale %4)").arg(i).arg(o).arg(diff).arg(scale)));
      }
      const CostEstimate est = estimateCost(deps, plan);
      const GraphCost fresh = computeCost(cut.graph);
      QCOMPARE(est.params, fresh.params);
      QCOMPARE(est.macs, fresh.macs);
      QCOMPARE(est.sizeBytes, fresh.sizeBytes);
    }
    for (size_t k = 0; k < before.size(); ++k) QVERIFY(at::equal(before[k].second, snapshot[k]));
  }

  void replayFromLog() {
    Graph g = zooModel("resnet20", {3, 32, 32});
    const DependencyGraph deps(g);
    std::mt19937_64 rng(1);
    const PrunePlan plan = randomPlan(deps, rng);
    const SurgeryResult a = applySurgery(deps, plan);
    const SurgeryResult b = applySurgery(deps, planFromLog(deps, a.log));
    const auto sa = a.graph.stateDict(), sb = b.graph.stateDict();
    for (size_t i = 0; i < sa.size(); ++i) QVERIFY(at::equal(sa[i].second, sb[i].second));
  }

  // gamma = 0, beta != 0: the removed channels output act(beta), a constant that the
  // fold moves into the next layer. Exact for 1x1 convs and Linear consumers.
  void foldBetaKeepsConstantContributions() {
    Graph g;
    GraphBuilder b(g);
    ValueId x = b.input("input", {3, 8, 8});
    x = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "c1", 8, 3), "bn1"), "r1");
    x = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "c2", 6, 1, 1, 0), "bn2"), "r2");
    x = b.act(OpKind::SiLU, b.batchNorm(b.conv(x, "c3", 5, 1, 1, 0), "bn3"), "s3");
    b.output(b.linear(b.flatten(b.globalAvgPool(x, "gap"), "flat"), "fc", 4));
    test::randomiseBatchNorm(g, 5);
    inferShapes(g, Shape{3, 8, 8});
    {
      at::NoGradGuard ng;
      g.findNode("bn1")->tensor("weight").narrow(0, 0, 3).zero_();
      g.findNode("bn1")->tensor("bias").narrow(0, 0, 3).fill_(0.7);
      g.findNode("bn3")->tensor("weight").narrow(0, 0, 2).zero_();
      g.findNode("bn3")->tensor("bias").narrow(0, 0, 2).fill_(-0.4);
    }
    const DependencyGraph deps(g);
    PrunePlan plan;
    plan.removed.resize(deps.groups().size());
    plan.removed[groupOf(deps, "c1")] = {0, 1, 2};
    plan.removed[groupOf(deps, "c3")] = {0, 1};
    const at::Tensor x0 = at::randn({2, 3, 8, 8});
    Graph ref = g.clone();
    const at::Tensor y = runInference(ref, {x0})[0];
    SurgeryOptions fold;
    fold.foldBeta = true;
    Graph folded = applySurgery(deps, plan, fold).graph;
    Graph plain = applySurgery(deps, plan).graph;
    QVERIFY((runInference(folded, {x0})[0] - y).abs().max().item<double>() < 1e-5);
    QVERIFY((runInference(plain, {x0})[0] - y).abs().max().item<double>() > 1e-3);
  }

  // A zero-padded 3x3 consumer sees a removed constant channel through all 9 taps inside
  // the map but through only 4 or 6 at its borders, so no bias is exact: the fold must
  // leave it alone (and say so) while it still folds exactly into an unpadded 1x1.
  void foldBetaOnlyWhereExact() {
    Graph g;
    GraphBuilder b(g);
    const ValueId x = b.input("input", {3, 8, 8});
    const ValueId h = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "c1", 8, 3), "bn1"), "r1");
    b.output(b.batchNorm(b.conv(h, "ca", 6, 3, 1, 1), "bna"));  // 3x3, pad 1
    b.output(b.batchNorm(b.conv(h, "cb", 5, 1, 1, 0), "bnb"));  // 1x1, pad 0
    test::randomiseBatchNorm(g, 9);
    inferShapes(g, Shape{3, 8, 8});
    {
      at::NoGradGuard ng;
      g.findNode("bn1")->tensor("weight").narrow(0, 0, 3).zero_();
      g.findNode("bn1")->tensor("bias").narrow(0, 0, 3).fill_(0.7);
    }
    const DependencyGraph deps(g);
    PrunePlan plan;
    plan.removed.resize(deps.groups().size());
    plan.removed[groupOf(deps, "c1")] = {0, 1, 2};
    const at::Tensor x0 = at::randn({2, 3, 8, 8});
    Graph ref = g.clone();
    const auto y = runInference(ref, {x0});
    SurgeryOptions fold;
    fold.foldBeta = true;
    const SurgeryResult folded = applySurgery(deps, plan, fold);
    Graph f = folded.graph.share(), plain = applySurgery(deps, plan).graph.share();
    const auto yf = runInference(f, {x0}), yp = runInference(plain, {x0});
    // The 1x1 consumer: folded exactly.
    QCOMPARE(folded.betaFold.folded, std::vector<std::string>{"cb"});
    QVERIFY((yf[1] - y[1]).abs().max().item<double>() < 1e-5);
    QVERIFY((yp[1] - y[1]).abs().max().item<double>() > 1e-3);
    // The padded consumer: reported and untouched.
    QCOMPARE(folded.betaFold.skipped.size(), size_t{1});
    QCOMPARE(folded.betaFold.skipped[0].first, std::string("ca"));
    QVERIFY(folded.betaFold.skipped[0].second.find("padding") != std::string::npos);
    QVERIFY(at::equal(yf[0], yp[0]));
    // Why: a whole-kernel fold would be exact inside the map and wrong on its border.
    const Node& ca = *g.findNode("ca");
    const Node& bna = *g.findNode("bna");
    const at::Tensor delta = ca.tensor("weight").narrow(1, 0, 3).sum({1, 2, 3}) * 0.7;
    const at::Tensor scale = bna.tensor("weight") / (bna.tensor("running_var") + 1e-5).sqrt();
    const at::Tensor wholeKernel = yp[0] + (delta * scale).view({1, -1, 1, 1});
    const at::Tensor err = (wholeKernel - y[0]).abs();
    QVERIFY(err.narrow(2, 1, 6).narrow(3, 1, 6).max().item<double>() < 1e-5);
    QVERIFY(err.max().item<double>() > 1e-3);
  }

  // YOLOv8n: a 3x3 stride-2 conv's channels feed C2f's 1x1 cv1 (folded exactly); the stem's
  // feed the padded 3x3 model.1.conv (reported, not folded).
  void foldBetaOnYolo() {
    ModelRequest mr;
    mr.model = "yolov8n";
    Graph g = loadModel(mr);
    test::randomiseBatchNorm(g, 3);
    inferShapes(g, Shape{3, 64, 64});
    const DependencyGraph deps(g);
    const at::Tensor x0 = at::randn({1, 3, 64, 64});
    SurgeryOptions fold;
    fold.foldBeta = true;
    {
      // Channels 0..7 of model.1 output their BN's beta (gamma = 0): removing them and
      // folding is exact.
      Graph masked = g.clone();
      {
        at::NoGradGuard ng;
        masked.findNode("model.1.bn")->tensor("weight").narrow(0, 0, 8).zero_();
      }
      const DependencyGraph md(masked);
      PrunePlan plan;
      plan.removed.resize(md.groups().size());
      for (int64_t k = 0; k < 8; ++k) plan.removed[groupOf(md, "model.1.conv")].push_back(k);
      Graph ref = masked.clone();
      const at::Tensor y = runInference(ref, {x0})[0];
      const SurgeryResult r = applySurgery(md, plan, fold);
      QCOMPARE(r.betaFold.folded, std::vector<std::string>{"model.2.cv1.conv"});
      QVERIFY(r.betaFold.skipped.empty());
      Graph f = r.graph.share(), plain = applySurgery(md, plan).graph.share();
      const double foldErr = ((runInference(f, {x0})[0] - y).abs() / y.abs().clamp_min(1.0)).max().item<double>();
      const double plainErr = ((runInference(plain, {x0})[0] - y).abs() / y.abs().clamp_min(1.0)).max().item<double>();
      QVERIFY2(foldErr < 1e-4, qPrintable(QString::number(foldErr)));
      QVERIFY2(plainErr > 1e-2, qPrintable(QString::number(plainErr)));
    }
    PrunePlan stem;
    stem.removed.resize(deps.groups().size());
    stem.removed[groupOf(deps, "model.0.conv")] = {0, 1, 2, 3};
    const SurgeryResult r = applySurgery(deps, stem, fold);
    QVERIFY(r.betaFold.folded.empty());
    QCOMPARE(r.betaFold.skipped.size(), size_t{1});
    QCOMPARE(r.betaFold.skipped[0].first, std::string("model.1.conv"));
  }

  // --protect keeps a scope's own output channels (Torch-Pruning's ignored_layers): the
  // necks feeding a protected Detect still prune. --pin keeps everything the scope touches.
  void protectKeepsOutputsPinKeepsInputsToo() {
    ModelRequest mr;
    mr.model = "yolov8n";
    Graph g = loadModel(mr);
    inferShapes(g, Shape{3, 64, 64});
    const DependencyGraph free(g);
    DependencyGraph::Options po;
    po.protectedScopes = {"model.22"};
    const DependencyGraph prot(g, po);
    DependencyGraph::Options pi;
    pi.pinnedScopes = {"model.22"};
    const DependencyGraph pinned(g, pi);
    int neckChecked = 0;
    for (const char* neck : {"model.15.cv2.conv", "model.18.cv2.conv", "model.21.cv2.conv"}) {
      const int64_t n = free.groups()[groupOf(free, neck)].prunableCount();
      QVERIFY2(n > 0, neck);
      QCOMPARE(prot.groups()[groupOf(prot, neck)].prunableCount(), n);
      QVERIFY2(!pinned.groups()[groupOf(pinned, neck)].prunable(), neck);
      ++neckChecked;
    }
    QCOMPARE(neckChecked, 3);
    int headConvs = 0, freeHeadConvs = 0;
    for (const Node& n : g.nodes()) {
      if (n.op != OpKind::Conv || n.scope.rfind("model.22.", 0) != 0 || n.attrs.getInt("groups", 1) != 1) continue;
      freeHeadConvs += free.groups()[groupOf(free, n.name)].prunable();
      QVERIFY2(!prot.groups()[groupOf(prot, n.name)].prunable(), n.name.c_str());
      ++headConvs;
    }
    QCOMPARE(headConvs, 18);      // cv2 and cv3: 3 levels x 3 convs
    QCOMPARE(freeHeadConvs, 12);  // the last conv of each branch writes a graph output
  }

  // --normalize: auto is raw scores for a global percent and group-mean scores for a
  // cost target (what each planner did before the option existed); ratios are exact.
  void plannerNormalisation() {
    Graph g = zooModel("resnet20", {3, 32, 32});
    const DependencyGraph deps(g);
    ImportanceOptions io;
    io.criterion = Criterion::L2;
    const auto scores = computeImportance(deps, io);
    PlanConstraints autoC, none, mean;
    none.normalize = ScoreNormalization::None;
    mean.normalize = ScoreNormalization::GroupMean;
    QCOMPARE(planGlobalPercent(deps, scores, 0.4, autoC).removed, planGlobalPercent(deps, scores, 0.4, none).removed);
    QVERIFY(planGlobalPercent(deps, scores, 0.4, mean).removed != planGlobalPercent(deps, scores, 0.4, none).removed);
    const int64_t target = computeCost(g).macs * 6 / 10;
    QCOMPARE(planToTarget(deps, scores, target, false, autoC).removed, planToTarget(deps, scores, target, false, mean).removed);
    QVERIFY(planToTarget(deps, scores, target, false, none).removed != planToTarget(deps, scores, target, false, mean).removed);
    // Under mean the threshold compares score / group mean; scaling one group's scores changes nothing.
    auto scaled = scores;
    const int layer = groupOf(deps, "layer3.0.conv1");
    for (double& v : scaled[layer]) v *= 1024;  // a power of two: the division stays exact
    QCOMPARE(planGlobalPercent(deps, scaled, 0.4, mean).removed, planGlobalPercent(deps, scores, 0.4, mean).removed);
    QCOMPARE(parseNormalization("mean"), ScoreNormalization::GroupMean);
    QVERIFY_THROWS_EXCEPTION(Error, parseNormalization("median"));
    QCOMPARE(channelsForRatio(0.29, 100), int64_t(29));  // 0.29 * 100 == 28.999999999999996
    QCOMPARE(channelsForRatio(0.299, 10), int64_t(2));
  }

  void plannerConstraints() {
    Graph g = zooModel("resnet20", {3, 32, 32});
    const DependencyGraph deps(g);
    ImportanceOptions io;
    io.criterion = Criterion::L2;
    const auto scores = computeImportance(deps, io);
    PlanConstraints c;
    c.roundTo = 8;
    c.minChannels = 8;
    const PrunePlan plan = planRatios(deps, scores, {}, 0.7, c);
    int checked = 0, cut = 0;
    for (const Group& grp : deps.groups()) {
      if (!grp.prunable()) continue;
      const int64_t kept = grp.size - static_cast<int64_t>(plan.removed[grp.id].size());
      QVERIFY2(kept % 8 == 0 && kept >= 8, grp.name.c_str());
      ++checked;
      cut += kept < grp.size;
    }
    QVERIFY2(checked >= 10 && cut >= 5, qPrintable(QString("%1 prunable groups, %2 cut").arg(checked).arg(cut)));
    // Lowest scores go first.
    const int layer = groupOf(deps, "layer3.0.conv1");
    const PrunePlan one = planLayerAmount(deps, scores, "layer3.0.conv1", 0.25, {});
    double maxRemoved = -1, minKept = 1e300;
    std::vector<bool> removed(64, false);
    for (int64_t k : one.removed[layer]) removed[k] = true;
    for (int64_t k = 0; k < 64; ++k)
      (removed[k] ? maxRemoved : minKept) = removed[k] ? std::max(maxRemoved, scores[layer][k]) : std::min(minKept, scores[layer][k]);
    QCOMPARE(one.removed[layer].size(), size_t(16));
    QVERIFY(maxRemoved <= minKept);
    // The whole group may never go; pinned channels never.
    PrunePlan all;
    all.removed.resize(deps.groups().size());
    for (int64_t k = 0; k < 64; ++k) all.removed[layer].push_back(k);
    QVERIFY_THROWS_EXCEPTION(Error, validatePlan(deps, all));
    PrunePlan fc;
    fc.removed.resize(deps.groups().size());
    fc.removed[groupOf(deps, "fc")] = {0};
    QVERIFY_THROWS_EXCEPTION(Error, validatePlan(deps, fc));
  }

  void globalPercentAndTargets() {
    Graph g = zooModel("resnet56", {3, 32, 32});
    {
      at::NoGradGuard ng;  // spread the gammas like a sparse-trained model
      at::manual_seed(3);
      for (Node& n : g.nodes())
        if (n.op == OpKind::BatchNorm) n.tensor("weight").copy_(at::rand(n.tensor("weight").sizes()).pow(3));
    }
    PruneRequest r;
    r.mode = PruneRequest::Mode::GlobalPercent;
    r.amount = 0.4;
    r.inputShape = {3, 32, 32};
    r.importance.criterion = Criterion::BnScale;
    const PruneOutcome p = runPruning(g, r);
    QVERIFY(p.highestSafePercent > 0.0 && p.highestSafePercent < 1.0);
    QVERIFY(computeCost(p.graph).params < computeCost(g).params);
    r.mode = PruneRequest::Mode::TargetMacs;
    r.importance.criterion = Criterion::L1;
    r.target = computeCost(g).macs / 2;
    r.steps = 2;
    const PruneOutcome t = runPruning(g, r);
    const int64_t macs = computeCost(t.graph).macs;
    QVERIFY2(macs <= r.target && macs > r.target * 0.9, qPrintable(QString::number(macs)));
    // A params target (README: plan by params): the plan meets it without overshooting by much,
    // and it is another plan than the MACs one (params and MACs weigh layers differently).
    r.mode = PruneRequest::Mode::TargetParams;
    r.target = computeCost(g).params * 6 / 10;
    const PruneOutcome byParams = runPruning(g, r);
    const int64_t params = computeCost(byParams.graph).params;
    QVERIFY2(params <= r.target && params > r.target * 0.9, qPrintable(QString::number(params)));
    QVERIFY(computeCost(byParams.graph).macs != macs);
  }

  void everyCriterionScores() {
    Graph g = test::yoloLike();
    inferShapes(g, Shape{3, 32, 32});
    const DependencyGraph deps(g);
    for (const char* name : {"l1", "l2", "bn", "activation", "taylor", "reconstruction", "random"}) {
      ImportanceOptions io;
      io.criterion = parseCriterion(name);
      io.calibration = {at::randn({4, 3, 32, 32})};
      const auto s = computeImportance(deps, io);
      QCOMPARE(s.size(), deps.groups().size());
      int scored = 0;
      for (const Group& grp : deps.groups()) {
        if (!grp.prunable()) continue;
        QCOMPARE(static_cast<int64_t>(s[grp.id].size()), grp.size);
        for (double v : s[grp.id]) QVERIFY2(std::isfinite(v) && v >= 0, (std::string(name) + " " + grp.name).c_str());
        ++scored;
      }
      QVERIFY2(scored > 0, name);
    }
  }
};

QTEST_APPLESS_MAIN(TestPruning)
#include "test_pruning.moc"
