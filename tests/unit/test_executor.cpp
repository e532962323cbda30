// GraphModule: forward/backward, gradients against finite differences, train/eval,
// parameter naming, in-place safety, thread configuration.

#include <torch/torch.h>

#include <QtTest/QtTest>
#include <thread>

#include "exec/graph_module.h"
#include "exec/runtime.h"
#include "models/graph_builder.h"
#include "models/zoo.h"
#include "train/fused_sgd.h"

using namespace prunelab;

namespace {

// conv-bn-relu, residual add, pool, linear: every kind of edge the executor plans.
std::shared_ptr<Graph> smallResidualNet() {
  auto g = std::make_shared<Graph>();
  GraphBuilder b(*g);
  ValueId x = b.input("input", {2, 6, 6});
  ValueId y = b.conv(x, "block.conv1", 4, 3, 1, 1, 1, true);
  y = b.batchNorm(y, "block.bn1");
  y = b.act(OpKind::ReLU, y, "block.relu");
  ValueId z = b.conv(y, "block.conv2", 4, 3);
  z = b.add(z, y, "block.add");
  z = b.act(OpKind::SiLU, z, "block.act");
  z = b.globalAvgPool(z, "pool");
  z = b.flatten(z, "flatten");
  b.output(b.linear(z, "fc", 3));
  return g;
}

// smallResidualNet's eval-mode forward written with plain ATen calls on the graph's own
// tensors (BN from its running statistics): an independent reference for the executor.
torch::Tensor smallResidualNetEval(const Graph& g, const torch::Tensor& x) {
  torch::NoGradGuard noGrad;
  const auto t = [&](const char* node, const char* name) { return g.findNode(node)->tensor(name); };
  torch::Tensor y = at::conv2d(x, t("block.conv1", "weight"), t("block.conv1", "bias"), 1, 1);
  y = at::batch_norm(y, t("block.bn1", "weight"), t("block.bn1", "bias"), t("block.bn1", "running_mean"),
                     t("block.bn1", "running_var"), /*training=*/false, 0.1, 1e-5, /*cudnn_enabled=*/false);
  y = at::relu(y);
  torch::Tensor z = at::conv2d(y, t("block.conv2", "weight"), {}, 1, 1);
  z = at::silu(z + y).mean({2, 3});
  return at::linear(z, t("fc", "weight"), t("fc", "bias"));
}

}  // namespace

class TestExecutor : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { torch::manual_seed(0); }

  void parameterNamesAreStateDictKeys() {
    GraphModule m(smallResidualNet());
    std::vector<std::string> names;
    for (const auto& p : m->named_parameters()) names.push_back(p.key());
    QCOMPARE(names, (std::vector<std::string>{"block.conv1.weight", "block.conv1.bias", "block.bn1.weight",
                                              "block.bn1.bias", "block.conv2.weight", "fc.weight", "fc.bias"}));
    QVERIFY(m->named_buffers().contains("block.bn1.running_var"));
  }

  void sharesTensorsWithTheGraph() {
    auto g = smallResidualNet();
    GraphModule m(g);
    {
      torch::NoGradGuard ng;
      m->named_parameters()["fc.bias"].fill_(3.0);
    }
    QCOMPARE(g->findNode("fc")->tensor("bias")[0].item<float>(), 3.0f);
  }

  // Autograd through the executor equals central finite differences (double precision).
  void gradientsMatchFiniteDifferences() {
    auto g = smallResidualNet();
    GraphModule m(g);
    m->to(torch::kDouble);
    m->eval();  // BN with fixed statistics: a smooth function of the weights
    torch::Tensor x = torch::randn({2, 2, 6, 6}, torch::kDouble);
    auto loss = [&] { return (m->forward(x) * torch::tensor({1.0, -2.0, 0.5}, torch::kDouble)).sum(); };
    m->zero_grad();
    loss().backward();
    for (const auto& p : m->named_parameters()) {
      torch::Tensor w = p.value();
      const int64_t n = std::min<int64_t>(w.numel(), 5);
      for (int64_t i = 0; i < n; ++i) {
        const double h = 1e-6;
        double up, down;
        {
          torch::NoGradGuard ng;
          w.view(-1)[i] += h;
          up = loss().item<double>();
          w.view(-1)[i] -= 2 * h;
          down = loss().item<double>();
          w.view(-1)[i] += h;
        }
        const double numeric = (up - down) / (2 * h);
        const double analytic = w.grad().view(-1)[i].item<double>();
        QVERIFY2(std::abs(numeric - analytic) < 1e-6 * std::max(1.0, std::abs(numeric)),
                 qPrintable(QString("%1[%2]: numeric %3 vs autograd %4")
                                .arg(p.key().c_str()).arg(i).arg(numeric).arg(analytic)));
      }
    }
  }

  void trainAndEvalModes() {
    auto g = smallResidualNet();
    GraphModule m(g);
    torch::Tensor x = torch::randn({4, 2, 6, 6}) * 3 + 1;
    m->eval();
    torch::Tensor evalOut = m->forward(x);
    QCOMPARE(g->findNode("block.bn1")->tensor("num_batches_tracked").item<int64_t>(), int64_t(0));
    m->train();
    torch::Tensor trainOut = m->forward(x);
    QVERIFY(!torch::allclose(evalOut, trainOut));  // batch statistics differ from running ones
    const Node* bn = g->findNode("block.bn1");
    QCOMPARE(bn->tensor("num_batches_tracked").item<int64_t>(), int64_t(1));
    QVERIFY(bn->tensor("running_mean").abs().sum().item<float>() > 0);
    m->eval();  // back to the running statistics the train step just updated
    const torch::Tensor evalAgain = m->forward(x).detach();
    const torch::Tensor reference = smallResidualNetEval(*g, x);
    QVERIFY2(torch::allclose(evalAgain, reference, 1e-5, 1e-6),
             qPrintable(QString("max diff %1").arg((evalAgain - reference).abs().max().item<double>())));
    QVERIFY((reference - smallResidualNetEval(*g, torch::zeros_like(x))).abs().max().item<double>() > 1e-3);
    QCOMPARE(bn->tensor("num_batches_tracked").item<int64_t>(), int64_t(1));  // eval updated nothing
  }

  // In-place ReLU after BN (planned by the executor) must not corrupt what backward
  // needs: gradients equal the same computation written with out-of-place ATen calls.
  void inPlaceActivationsKeepGradientsRight() {
    auto build = [] {
      auto g = std::make_shared<Graph>();
      GraphBuilder b(*g);
      ValueId x = b.input("input", {3, 5, 5});
      ValueId y = b.batchNorm(b.conv(x, "conv", 4, 3), "bn");
      ValueId r = b.act(OpKind::ReLU, y, "relu");
      b.output(b.linear(b.flatten(b.globalAvgPool(r, "pool"), "flat"), "fc", 2));
      return g;
    };
    torch::manual_seed(1);
    auto g1 = build();
    auto g2 = build();
    for (size_t i = 0; i < g1->nodes().size(); ++i)
      for (size_t k = 0; k < g1->nodes()[i].tensors.size(); ++k)
        g2->nodes()[i].tensors[k].tensor = g1->nodes()[i].tensors[k].tensor.clone();
    GraphModule a(g1);
    torch::Tensor x = torch::randn({3, 3, 5, 5});
    a->train();
    a->forward(x).sum().backward();
    for (auto& n : g2->nodes())
      for (auto& t : n.tensors)
        if (!t.isBuffer) t.tensor.set_requires_grad(true);
    // Reference: the same computation written with out-of-place ATen calls.
    const Node& conv = g2->nodes()[0];
    const Node& bn = g2->nodes()[1];
    const Node& fc = g2->nodes().back();
    auto y = torch::conv2d(x, conv.tensor("weight"), {}, 1, 1);
    y = torch::batch_norm(y, bn.tensor("weight"), bn.tensor("bias"), bn.tensor("running_mean").clone(),
                          bn.tensor("running_var").clone(), true, 0.1, 1e-5, false);
    y = torch::relu(y).mean({2, 3});
    torch::linear(y, fc.tensor("weight"), fc.tensor("bias")).sum().backward();
    for (size_t i = 0; i < g1->nodes().size(); ++i)
      for (size_t k = 0; k < g1->nodes()[i].tensors.size(); ++k) {
        const auto& t1 = g1->nodes()[i].tensors[k].tensor;
        const auto& t2 = g2->nodes()[i].tensors[k].tensor;
        if (!t1.requires_grad()) continue;
        QVERIFY2(torch::allclose(t1.grad(), t2.grad(), 1e-5, 1e-6), g1->nodes()[i].name.c_str());
      }
  }

  // Batch-1 inference takes the direct oneDNN path (ops/conv_ops.cpp); it must agree
  // with at::conv2d's result for the same sample in a larger batch.
  void batchOneInferenceMatchesBatched() {
    auto g = std::make_shared<Graph>(buildZooModel("resnet18", {}));
    GraphModule m(g);
    m->eval();
    torch::NoGradGuard ng;
    const torch::Tensor x = torch::randn({3, 3, 64, 64});
    const torch::Tensor batched = m->forward(x);
    for (int64_t i = 0; i < 3; ++i)
      QVERIFY(torch::allclose(m->forward(x.narrow(0, i, 1)), batched.narrow(0, i, 1), 1e-4, 1e-5));
  }

  void forwardErrorsNameTheNode() {
    GraphModule m(smallResidualNet());
    try {
      m->forward(torch::randn({1, 5, 6, 6}));
      QFAIL("no error");
    } catch (const std::exception& e) {
      QVERIFY2(std::string(e.what()).find("block.conv1") != std::string::npos, e.what());
    }
  }

  void threadsDefaultToAllCores() {
    const int n = configureThreads();
    QCOMPARE(n, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    QCOMPARE(configureThreads(1), 1);
    configureThreads();
    QCOMPARE(resolveDevice("cpu"), std::string("cpu"));
    QVERIFY_THROWS_EXCEPTION(std::exception, resolveDevice("tpu"));
  }

  // The multi-tensor SGD step computes exactly what torch::optim::SGD::step() does.
  void fusedSgdMatchesSgd() {
    for (const bool nesterov : {false, true}) {
      auto ga = std::make_shared<Graph>(buildZooModel("resnet20", {}));
      auto gb = std::make_shared<Graph>(ga->clone());
      GraphModule a(ga), b(gb);
      const auto options = torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4).nesterov(nesterov);
      torch::optim::SGD oa(a->parameters(), options), ob(b->parameters(), options);
      const torch::Tensor x = torch::randn({4, 3, 32, 32});
      for (int step = 0; step < 4; ++step) {
        for (auto* m : {&a, &b}) {
          (*m)->zero_grad();
          (*m)->forward(x).pow(2).mean().backward();
        }
        oa.step();
        fusedSgdStep(ob);
      }
      const auto pa = a->parameters(), pb = b->parameters();
      for (size_t i = 0; i < pa.size(); ++i) QVERIFY(torch::allclose(pa[i], pb[i], 1e-5, 1e-6));
    }
  }

  void trainsResNet20OnATinyBatch() {
    auto g = std::make_shared<Graph>(buildZooModel("resnet20", {}));
    GraphModule m(g);
    m->train();
    torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    torch::Tensor x = torch::randn({8, 3, 32, 32});
    torch::Tensor y = torch::arange(8) % 10;
    double first = 0, last = 0;
    for (int step = 0; step < 15; ++step) {
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(m->forward(x), y);
      loss.backward();
      opt.step();
      (step == 0 ? first : last) = loss.item<double>();
    }
    QVERIFY2(last < 0.5 * first, qPrintable(QString("loss %1 -> %2").arg(first).arg(last)));
  }
};

QTEST_APPLESS_MAIN(TestExecutor)
#include "test_executor.moc"
