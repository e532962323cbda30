// core/passes and the Graph copy contract (issue #16 items 4 and 9):
// - fold_batchnorm computes what the unfolded graph computes in eval mode (random BN
//   statistics and affine parameters, so a wrong fold cannot pass), removes exactly the
//   BatchNorms that alone read a Conv, and leaves the source graph untouched;
// - the lowered YOLO decode is what the executor runs (the fragment run by hand equals the
//   model's decoded output, made of primitive ops only) and it is right: it equals a
//   decode written in this test from the published yolov5 / ultralytics formulas;
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

// The YOLO decodes written here from the published formulas, independently of
// passes/lower_detect_decode (which the executor and both exporters share, so only a
// reference outside it can catch a wrong decode).
at::Tensor cellCentres(int64_t ny, int64_t nx, double offset) {  // [ny*nx, 2] as (x, y)
  const at::Tensor ys = at::arange(ny, at::kFloat).view({ny, 1}).expand({ny, nx});
  const at::Tensor xs = at::arange(nx, at::kFloat).view({1, nx}).expand({ny, nx});
  return at::stack({xs, ys}, 2).reshape({ny * nx, 2}) + offset;
}

// yolov5: xy = (2 sigmoid - 0.5 + cell) * stride, wh = (2 sigmoid)^2 * anchor * stride.
at::Tensor referenceV5(const std::vector<at::Tensor>& levels, const std::vector<int64_t>& strides, const at::Tensor& anchors) {
  std::vector<at::Tensor> rows;
  for (size_t i = 0; i < levels.size(); ++i) {
    const at::Tensor y = levels[i].sigmoid();  // [bs, na, ny, nx, no]
    const int64_t bs = y.size(0), na = y.size(1), ny = y.size(2), nx = y.size(3), no = y.size(4);
    const double s = static_cast<double>(strides[i]);
    const at::Tensor cell = cellCentres(ny, nx, 0.0).view({1, 1, ny, nx, 2});
    const at::Tensor xy = (y.narrow(4, 0, 2) * 2 - 0.5 + cell) * s;
    const at::Tensor wh = (y.narrow(4, 2, 2) * 2).pow(2) * (anchors[static_cast<int64_t>(i)] * s).view({1, na, 1, 1, 2});
    rows.push_back(at::cat({xy, wh, y.narrow(4, 4, no - 4)}, 4).reshape({bs, na * ny * nx, no}));
  }
  return at::cat(rows, 1);
}

// ultralytics v8/11: per side, the expectation of a softmax over reg_max bins (0..reg-1),
// boxes around the cell centres, scaled by the stride; class scores through a sigmoid.
at::Tensor referenceDfl(const std::vector<at::Tensor>& levels, const std::vector<int64_t>& strides, int64_t reg) {
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < levels.size(); ++i) {
    const at::Tensor x = levels[i];  // [bs, 4 reg + nc, ny, nx]
    const int64_t bs = x.size(0), c = x.size(1), ny = x.size(2), nx = x.size(3), a = ny * nx;
    const at::Tensor flat = x.reshape({bs, c, a});
    const at::Tensor p = flat.narrow(1, 0, 4 * reg).reshape({bs, 4, reg, a}).softmax(2);
    const at::Tensor dist = (p * at::arange(reg, at::kFloat).view({1, 1, reg, 1})).sum(2);  // l, t, r, b
    const at::Tensor centre = cellCentres(ny, nx, 0.5).t().unsqueeze(0);                   // [1, 2, A]
    const at::Tensor x1y1 = centre - dist.narrow(1, 0, 2), x2y2 = centre + dist.narrow(1, 2, 2);
    const at::Tensor box = at::cat({(x1y1 + x2y2) / 2, x2y2 - x1y1}, 1) * static_cast<double>(strides[i]);
    out.push_back(at::cat({box, flat.narrow(1, 4 * reg, c - 4 * reg).sigmoid()}, 1));
  }
  return at::cat(out, 2);
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
    // And the decode is right: an independent reference on the same raw outputs.
    const at::Tensor expected = decode->attrs.getString("style") == "v5"
                                    ? referenceV5(in, decode->attrs.getInts("strides"), decode->tensor("anchors"))
                                    : referenceDfl(in, decode->attrs.getInts("strides"), decode->attrs.getInt("reg_max", 16));
    const double err = relErr(captured.back(), expected);
    QVERIFY2(err < 1e-5, qPrintable(QString("decode vs reference: %1").arg(err)));
    // The reference is sensitive to what it checks: another stride is far off.
    std::vector<int64_t> wrong = decode->attrs.getInts("strides");
    wrong[0] *= 2;
    const at::Tensor off = decode->attrs.getString("style") == "v5"
                               ? referenceV5(in, wrong, decode->tensor("anchors"))
                               : referenceDfl(in, wrong, decode->attrs.getInt("reg_max", 16));
    QVERIFY(relErr(captured.back(), off) > 1e-2);
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
