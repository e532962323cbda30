// Numeric parity with PyTorch: zoo models loaded from torch.save(state_dict) files give
// PyTorch's outputs (eval), and one training-mode forward/backward matches PyTorch's
// outputs, gradients and updated BN statistics. Every reference is checked to depend on
// its input (PRUNELAB_VERIFY_DEPENDS_ON_INPUT), so an executor ignoring x cannot pass.

#include <torch/torch.h>

#include <QtTest/QtTest>

#include "exec/graph_module.h"
#include "exec/inference.h"
#include "io/state_dict.h"
#include "models/model_loader.h"
#include "test_helpers.h"

using namespace prunelab;
using prunelab::test::maxAbsDiff;
using prunelab::test::refPath;

class TestTorchParity : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void evalOutputsMatch_data() {
    QTest::addColumn<QString>("model");
    for (const char* m : {"resnet18", "mobilenet_v2", "resnet20", "vgg11_bn", "resnet56", "resnet34", "vgg16_bn"})
      QTest::newRow(m) << m;
  }
  void evalOutputsMatch() {
    QFETCH(QString, model);
    const std::string name = model.toStdString();
    ModelRequest req;
    req.model = name;
    req.numClasses = 10;
    req.weights = refPath(name + ".pt");
    Graph g = loadModel(req);
    const at::Tensor x = readNpy(refPath(name + "_input.npy"));
    const at::Tensor out = runInference(g, {x})[0];
    const at::Tensor expected = readNpy(refPath(name + "_output.npy"));
    PRUNELAB_VERIFY_DEPENDS_ON_INPUT(maxAbsDiff(expected, readNpy(refPath(name + "_zero_output.npy"))), 1e-4);
    PRUNELAB_COMPARE_TENSORS(out, expected, 1e-4);
  }

  void trainingStepMatches() {
    ModelRequest req;
    req.model = "resnet20";
    req.weights = refPath("resnet20_train_before.pt");
    auto g = std::make_shared<Graph>(loadModel(req));
    GraphModule m(g);
    m->train();
    const at::Tensor x = readNpy(refPath("resnet20_train_input.npy"));
    const at::Tensor y = m->forward(x);
    (y * torch::linspace(-1, 1, 10)).sum().backward();
    const at::Tensor expected = readNpy(refPath("resnet20_train_output.npy"));
    PRUNELAB_VERIFY_DEPENDS_ON_INPUT(maxAbsDiff(expected, readNpy(refPath("resnet20_train_zero_output.npy"))), 1e-4);
    PRUNELAB_COMPARE_TENSORS(y.detach(), expected, 1e-4);
    PRUNELAB_COMPARE_TENSORS(g->findNode("conv1")->tensor("weight").grad(),
                             readNpy(refPath("resnet20_train_grad_conv1.npy")), 1e-4);
    PRUNELAB_COMPARE_TENSORS(g->findNode("fc")->tensor("weight").grad(), readNpy(refPath("resnet20_train_grad_fc.npy")),
                             1e-4);
    // Running statistics and batch counters updated exactly as PyTorch's.
    const StateDict after = readTorchStateDict(refPath("resnet20_train_after.pt"));
    const auto mine = g->stateDict();
    QCOMPARE(mine.size(), after.size());
    QVERIFY(after.size() > 100);  // ResNet-20: 19 BN layers x 5 tensors alone
    for (size_t i = 0; i < after.size(); ++i) {
      QCOMPARE(mine[i].first, after[i].first);
      PRUNELAB_COMPARE_TENSORS(mine[i].second.detach(), after[i].second, 1e-5);
    }
  }
};

QTEST_APPLESS_MAIN(TestTorchParity)
#include "test_torch_parity.moc"
