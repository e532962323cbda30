// Importance criteria against their formulas (issue 15): L1, L2 and BN |gamma| computed by
// hand for one group; activation and Taylor on a tiny graph recomputed with plain ATen
// calls (no GraphModule); `random` depends on its seed; and on one model every criterion
// ranks the channels differently (a criterion silently falling back to another would not).

#include <torch/torch.h>

#include <QtTest/QtTest>
#include <algorithm>
#include <numeric>

#include "../support/synthetic_models.h"
#include "analysis/shape_inference.h"
#include "models/graph_builder.h"
#include "models/zoo.h"
#include "pruning/dependency_graph.h"
#include "pruning/importance.h"

using namespace prunelab;

namespace {

constexpr int64_t kBatch = 3;

// input 2x6x6 -> c1 (4, 3x3) -> bn1 -> relu1 -> c2 (3, 3x3) -> bn2 -> relu2 -> pool -> fc (2).
// Group "c1" has 4 channels: c1's output rows, bn1, c2's input columns.
Graph tinyNet() {
  Graph g;
  GraphBuilder b(g);
  ValueId x = b.input("input", {2, 6, 6});
  ValueId y = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "c1", 4, 3), "bn1"), "relu1");
  ValueId z = b.act(OpKind::ReLU, b.batchNorm(b.conv(y, "c2", 3, 3), "bn2"), "relu2");
  b.output(b.linear(b.flatten(b.globalAvgPool(z, "pool"), "flat"), "fc", 2));
  // Signed gammas (|gamma| must be taken) and statistics away from the identity.
  at::manual_seed(5);
  at::NoGradGuard ng;
  for (Node& n : g.nodes()) {
    if (n.op != OpKind::BatchNorm) continue;
    const int64_t c = n.tensor("weight").numel();
    n.tensor("weight").copy_(at::randn({c}));
    n.tensor("bias").copy_(at::randn({c}) * 0.3);
    n.tensor("running_mean").copy_(at::randn({c}) * 0.2);
    n.tensor("running_var").copy_(at::rand({c}) + 0.5);
  }
  inferShapes(g, Shape{2, 6, 6});
  return g;
}

at::Tensor tensorOf(const Graph& g, const char* node, const char* name) { return g.findNode(node)->tensor(name).detach(); }

std::vector<double> toVector(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

void compareScores(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  QCOMPARE(got.size(), want.size());
  QVERIFY(!want.empty());
  for (size_t k = 0; k < want.size(); ++k)
    QVERIFY2(std::abs(got[k] - want[k]) <= tol * std::max(1.0, std::abs(want[k])),
             qPrintable(QString("%1 channel %2: %3, by hand %4").arg(what).arg(k).arg(got[k]).arg(want[k])));
}

std::vector<double> scoresOf(const DependencyGraph& deps, const ImportanceOptions& o, const char* source) {
  const int grp = deps.groupOfSource(deps.graph().findNode(source)->id);
  return computeImportance(deps, o).at(static_cast<size_t>(grp));
}

// The tiny net's eval forward in plain ATen, on `p` (c1.w, bn1.w, c2.w, bn2.w, fc.w in
// that order; leaves for Taylor's gradients). Returns (relu1 output, logits).
std::pair<at::Tensor, at::Tensor> tinyForward(const Graph& g, const std::vector<at::Tensor>& p, const at::Tensor& x) {
  const auto bn = [&](const at::Tensor& v, const char* node, const at::Tensor& gamma) {
    return at::batch_norm(v, gamma, tensorOf(g, node, "bias"), tensorOf(g, node, "running_mean"),
                          tensorOf(g, node, "running_var"), false, 0.1, 1e-5, false);
  };
  const at::Tensor r1 = at::relu(bn(at::conv2d(x, p[0], {}, 1, 1), "bn1", p[1]));
  const at::Tensor r2 = at::relu(bn(at::conv2d(r1, p[2], {}, 1, 1), "bn2", p[3]));
  return {r1, at::linear(r2.mean({2, 3}), p[4], tensorOf(g, "fc", "bias"))};
}

std::vector<at::Tensor> weights(const Graph& g) {
  std::vector<at::Tensor> p;
  for (auto [node, t] : {std::pair{"c1", "weight"}, {"bn1", "weight"}, {"c2", "weight"}, {"bn2", "weight"}, {"fc", "weight"}})
    p.push_back(tensorOf(g, node, t).clone());
  return p;
}

// Position of each channel when all prunable channels of the model are sorted by score.
std::vector<int64_t> globalRanking(const DependencyGraph& deps, const std::vector<std::vector<double>>& s) {
  std::vector<double> flat;
  for (const Group& grp : deps.groups())
    if (grp.prunable()) flat.insert(flat.end(), s[grp.id].begin(), s[grp.id].end());
  std::vector<int64_t> order(flat.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return flat[a] < flat[b]; });
  return order;
}

}  // namespace

class TestCriteria : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Sum over the group's members: c1's output filter k, bn1's gamma_k, c2's input slice k.
  void weightNormsByHand() {
    const Graph g = tinyNet();
    const DependencyGraph deps(g);
    const at::Tensor w1 = tensorOf(g, "c1", "weight"), gamma = tensorOf(g, "bn1", "weight"), w2 = tensorOf(g, "c2", "weight");
    QVERIFY((gamma < 0).any().item<bool>());  // the |.| matters
    const at::Tensor l1 = w1.abs().sum({1, 2, 3}) + gamma.abs() + w2.abs().sum({0, 2, 3});
    const at::Tensor l2 = w1.pow(2).sum({1, 2, 3}).sqrt() + gamma.abs() + w2.pow(2).sum({0, 2, 3}).sqrt();
    ImportanceOptions o;
    o.criterion = Criterion::L1;
    compareScores(scoresOf(deps, o, "c1"), toVector(l1), 1e-5, "l1");
    o.criterion = Criterion::L2;
    compareScores(scoresOf(deps, o, "c1"), toVector(l2), 1e-5, "l2");
    o.criterion = Criterion::BnScale;
    compareScores(scoresOf(deps, o, "c1"), toVector(gamma.abs()), 1e-6, "bn");
    // Mean and max reductions over the three members.
    o.criterion = Criterion::L1;
    o.reduction = GroupReduction::Mean;
    compareScores(scoresOf(deps, o, "c1"), toVector(l1 / 3), 1e-5, "l1 mean");
    o.reduction = GroupReduction::Max;
    const at::Tensor l1max = at::max(at::max(w1.abs().sum({1, 2, 3}), gamma.abs()), w2.abs().sum({0, 2, 3}));
    compareScores(scoresOf(deps, o, "c1"), toVector(l1max), 1e-5, "l1 max");
  }

  // Mean over calibration samples of |relu1| summed over positions (the group's
  // nonlinearity output), over two batches.
  void activationByHand() {
    const Graph g = tinyNet();
    const DependencyGraph deps(g);
    at::manual_seed(11);
    const std::vector<at::Tensor> batches = {at::randn({kBatch, 2, 6, 6}), at::randn({kBatch + 2, 2, 6, 6})};
    ImportanceOptions o;
    o.criterion = Criterion::Activation;
    o.calibration = batches;
    at::Tensor sum = at::zeros({4}, at::kDouble);
    int64_t samples = 0;
    {
      at::NoGradGuard ng;
      for (const at::Tensor& x : batches) {
        sum += tinyForward(g, weights(g), x).first.abs().sum({0, 2, 3}).to(at::kDouble);
        samples += x.size(0);
      }
    }
    QVERIFY(sum.min().item<double>() > 0);
    compareScores(scoresOf(deps, o, "c1"), toVector(sum / double(samples)), 1e-5, "activation");
  }

  // |sum over the slice of w * dL/dw| per member, summed: L = cross-entropy against the
  // model's own argmax in eval mode, gradients accumulated over the batches.
  void taylorByHand() {
    const Graph g = tinyNet();
    const DependencyGraph deps(g);
    at::manual_seed(12);
    const std::vector<at::Tensor> batches = {at::randn({kBatch, 2, 6, 6}), at::randn({kBatch, 2, 6, 6})};
    ImportanceOptions o;
    o.criterion = Criterion::Taylor;
    o.calibration = batches;
    std::vector<at::Tensor> p = weights(g);
    for (at::Tensor& t : p) t.requires_grad_(true);
    for (const at::Tensor& x : batches) {
      const at::Tensor logits = tinyForward(g, p, x).second;
      at::nll_loss(at::log_softmax(logits, 1), logits.detach().argmax(1)).backward();
    }
    const at::Tensor t1 = (p[0].detach() * p[0].grad()).sum({1, 2, 3}).abs();
    const at::Tensor tg = (p[1].detach() * p[1].grad()).abs();
    const at::Tensor t2 = (p[2].detach() * p[2].grad()).sum({0, 2, 3}).abs();
    const at::Tensor want = t1 + tg + t2;
    QVERIFY(want.min().item<double>() > 0);
    compareScores(scoresOf(deps, o, "c1"), toVector(want), 1e-4, "taylor");
  }

  void randomDependsOnTheSeed() {
    const Graph g = tinyNet();
    const DependencyGraph deps(g);
    ImportanceOptions o;
    o.criterion = Criterion::Random;
    o.seed = 1;
    const auto a = computeImportance(deps, o), again = computeImportance(deps, o);
    o.seed = 2;
    const auto b = computeImportance(deps, o);
    QCOMPARE(a, again);  // reproducible
    QVERIFY(a != b);
    const std::vector<double>& c1 = a.at(static_cast<size_t>(deps.groupOfSource(g.findNode("c1")->id)));
    QCOMPARE(std::set<double>(c1.begin(), c1.end()).size(), c1.size());  // not a constant
  }

  // On ResNet-20 (random BN, calibrated criteria on the same batches) no two criteria
  // order the channels the same way.
  void everyCriterionRanksDifferently() {
    ZooOptions zo;
    zo.numClasses = 10;
    Graph g = buildZooModel("resnet20", zo);
    test::randomiseBatchNorm(g, 7);
    inferShapes(g, Shape{3, 32, 32});
    const DependencyGraph deps(g);
    at::manual_seed(3);
    const std::vector<at::Tensor> calibration = {at::randn({8, 3, 32, 32})};
    std::vector<std::pair<std::string, std::vector<int64_t>>> rankings;
    for (const char* name : {"l1", "l2", "bn", "activation", "taylor", "reconstruction", "random"}) {
      ImportanceOptions o;
      o.criterion = parseCriterion(name);
      o.calibration = calibration;
      rankings.emplace_back(name, globalRanking(deps, computeImportance(deps, o)));
      QVERIFY2(rankings.back().second.size() > 300, name);  // ResNet-20: 448 channels in prunable groups
    }
    QCOMPARE(rankings.size(), size_t(7));
    for (size_t i = 0; i < rankings.size(); ++i)
      for (size_t j = i + 1; j < rankings.size(); ++j)
        QVERIFY2(rankings[i].second != rankings[j].second,
                 qPrintable(QString("%1 and %2 rank alike").arg(rankings[i].first.c_str()).arg(rankings[j].first.c_str())));
  }
};

QTEST_APPLESS_MAIN(TestCriteria)
#include "test_criteria.moc"
