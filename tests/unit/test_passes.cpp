// core/passes and the Graph copy contract (issue #16 items 4 and 9):
// - fold_batchnorm computes what the unfolded graph computes in eval mode (random BN
//   statistics and affine parameters, so a wrong fold cannot pass), removes exactly the
//   BatchNorms that alone read a Conv, and leaves the source graph untouched;
// - the lowered YOLO decode is what the executor runs: the fragment run by hand equals
//   the model's decoded output, and it is made of primitive ops only;
// - share() shares tensors, clone() does not; structure ids follow structure changes.

#include <ATen/ATen.h>

#include <QtTest/QtTest>

#include "analysis/shape_inference.h"
#include "exec/graph_module.h"
#include "exec/inference.h"
#include "models/model_loader.h"
#include "ops/op_table.h"
#include "passes/fold_batchnorm.h"
#include "passes/lowering.h"
#include "pruning/dependency_graph.h"
#include "pruning/pruner.h"

using namespace prunelab;

namespace {

Graph load(const std::string& name) {
  ModelRequest r;
  r.model = name;
  return loadModel(r);
}

// Eval-mode BN that differs from the identity in every channel.
void randomiseBatchNorms(Graph& g, uint64_t seed) {
  at::manual_seed(seed);
  at::NoGradGuard noGrad;
  for (Node& n : g.nodes()) {
    if (n.op != OpKind::BatchNorm) continue;
    const int64_t c = n.tensor("weight").size(0);
    n.tensor("weight").copy_(at::rand({c}) + 0.5);
    n.tensor("bias").copy_(at::randn({c}) * 0.2);
    n.tensor("running_mean").copy_(at::randn({c}) * 0.2);
    n.tensor("running_var").copy_(at::rand({c}) + 0.5);
  }
}

int count(const Graph& g, OpKind kind) {
  int k = 0;
  for (const Node& n : g.nodes()) k += n.op == kind;
  return k;
}

std::vector<at::Tensor> run(const Graph& graph, const at::Tensor& x) {
  Graph g = graph.share();
  return runInference(g, {x}, "cpu");
}

double relErr(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

}  // namespace

class TestPasses : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void foldBatchNormKeepsOutputs_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("size");
    QTest::newRow("resnet20") << "resnet20" << 32;
    QTest::newRow("mobilenet_v2") << "mobilenet_v2" << 64;
    QTest::newRow("yolov8n") << "yolov8n" << 128;
  }
  void foldBatchNormKeepsOutputs() {
    QFETCH(QString, model);
    QFETCH(int, size);
    Graph g = load(model.toStdString());
    randomiseBatchNorms(g, 3);
    inferShapes(g, Shape{3, size, size});
    const at::Tensor before = g.nodes()[0].tensor("weight").clone();
    passes::FoldBatchNormReport report;
    Graph folded = passes::foldBatchNorm(g, &report);
    QVERIFY(report.folded > 0);
    QCOMPARE(count(folded, OpKind::BatchNorm), count(g, OpKind::BatchNorm) - report.folded);
    QCOMPARE(static_cast<int>(folded.nodes().size()), static_cast<int>(g.nodes().size()) - report.folded);
    QVERIFY(at::equal(g.nodes()[0].tensor("weight"), before));  // the source is untouched
    const at::Tensor x = at::randn({2, 3, size, size});
    const auto a = run(g, x), b = run(folded, x);
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const double err = relErr(b[i], a[i]);
      QVERIFY2(err < 1e-4, qPrintable(QString("output %1: %2").arg(i).arg(err)));
    }
    // The check can fail: the same graph without its BNs' shift is far off.
    Graph broken = g.clone();
    for (Node& n : broken.nodes())
      if (n.op == OpKind::BatchNorm) n.tensor("bias").zero_();
    QVERIFY(relErr(run(broken, x)[0], a[0]) > 1e-2);
  }

  void loweredDecodeIsWhatRuns_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("yolov5n (anchors)") << "yolov5n";
    QTest::newRow("yolo11n (DFL)") << "yolo11n";
  }
  void loweredDecodeIsWhatRuns() {
    QFETCH(QString, model);
    Graph g = load(model.toStdString());
    inferShapes(g, Shape{3, 96, 96});
    const Node* decode = nullptr;
    for (const Node& n : g.nodes())
      if (n.op == OpKind::DetectDecode) decode = &n;
    QVERIFY(decode);
    QVERIFY(opSpec(OpKind::DetectDecode).lowered);
    const at::Tensor x = at::randn({2, 3, 96, 96});
    std::vector<ValueId> raw = decode->inputs;
    raw.push_back(decode->outputs[0]);
    GraphModule m(std::make_shared<Graph>(g.share()));
    m->eval();
    at::NoGradGuard noGrad;
    const auto captured = m->capture({x}, raw);
    std::vector<Shape> shapes;
    std::vector<at::Tensor> in(captured.begin(), captured.end() - 1);
    for (const at::Tensor& t : in) shapes.push_back(t.sizes().vec());
    const Graph fragment = passes::lowerNode(*decode, shapes);
    std::vector<at::Tensor> values(fragment.values().size());
    for (size_t i = 0; i < in.size(); ++i) values[fragment.inputs()[i]] = in[i];
    for (const Node& n : fragment.nodes()) {
      QVERIFY2(!opSpec(n.op).lowered && opSpec(n.op).forward, opKindName(n.op));
      std::vector<at::Tensor> args;
      for (ValueId v : n.inputs) args.push_back(values[v]);
      const auto out = opSpec(n.op).forward(n, args, OpContext{});
      for (size_t i = 0; i < out.size(); ++i) values[n.outputs[i]] = out[i];
    }
    QVERIFY(at::equal(values[fragment.outputs()[0]], captured.back()));
    const Shape declared = g.value(decode->outputs[0]).shape;  // the op's own shape rule, at batch 1
    QCOMPARE(captured.back().sizes().vec(), (Shape{2, declared[1], declared[2]}));
  }

  void copiesAreExplicit() {
    Graph g = load("resnet20");
    Graph shared = g.share(), cloned = g.clone();
    at::NoGradGuard noGrad;
    g.nodes()[0].tensor("weight").add_(1.0);
    QVERIFY(at::equal(shared.nodes()[0].tensor("weight"), g.nodes()[0].tensor("weight")));
    QVERIFY(!at::equal(cloned.nodes()[0].tensor("weight"), g.nodes()[0].tensor("weight")));
    QCOMPARE(shared.structureId(), g.structureId());
    QCOMPARE(cloned.structureId(), g.structureId());
    QCOMPARE(g.skeleton().structureId(), g.structureId());
    QVERIFY(load("resnet20").structureId() != g.structureId());
  }

  void surgeryRenewsTheStructureId() {
    Graph g = load("resnet20");
    inferShapes(g, Shape{3, 32, 32});
    PruneRequest r;
    r.mode = PruneRequest::Mode::GlobalPercent;
    r.amount = 0.3;
    r.inputShape = {3, 32, 32};
    const PruneOutcome out = runPruning(g, r);
    QVERIFY(out.graph.structureId() != g.structureId());
    QVERIFY(out.graph.parameterCount() < g.parameterCount());
  }

  void dependencyGraphOutlivesItsSource() {
    std::unique_ptr<DependencyGraph> deps;
    int64_t groups = 0;
    {
      Graph g = load("resnet20");
      inferShapes(g, Shape{3, 32, 32});
      deps = std::make_unique<DependencyGraph>(g);
      groups = static_cast<int64_t>(deps->groups().size());
    }  // g is gone; the analysis keeps its own share of the structure
    QCOMPARE(static_cast<int64_t>(deps->groups().size()), groups);
    QVERIFY(!deps->graph().nodes().empty());
    QVERIFY(!deps->keptChannels(std::vector<std::vector<int64_t>>(deps->groups().size())).empty());
  }
};

QTEST_GUILESS_MAIN(TestPasses)
#include "test_passes.moc"
