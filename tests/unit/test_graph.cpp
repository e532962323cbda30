// The IR, the op table's shape inference and cost counting, on hand-built graphs.

#include <ATen/ATen.h>

#include <QtTest/QtTest>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "graph/graph.h"
#include "models/graph_builder.h"
#include "ops/op_table.h"
#include "util/error.h"

using namespace prunelab;

class TestGraph : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { at::manual_seed(0); }

  void edgesAndNames() {
    Graph g;
    GraphBuilder b(g);
    ValueId x = b.input("input", {3, 8, 8});
    ValueId c = b.conv(x, "conv", 4, 3);
    ValueId r1 = b.act(OpKind::ReLU, c, "relu");
    ValueId r2 = b.act(OpKind::ReLU, r1, "relu");  // same module used twice
    b.output(b.add(r1, r2, "add"));
    QCOMPARE(g.nodes().size(), size_t(4));
    QCOMPARE(g.node(1).name, std::string("relu"));
    QCOMPARE(g.node(2).name, std::string("relu_1"));
    QCOMPARE(g.node(2).scope, std::string("relu"));
    QCOMPARE(g.value(r1).consumers, (std::vector<NodeId>{2, 3}));
    QCOMPARE(g.value(c).producer, 0);
    QCOMPARE(g.node(0).key("weight"), std::string("conv.weight"));
    QVERIFY(g.findNode("relu_1") != nullptr);
    QVERIFY_THROWS_EXCEPTION(Error, g.addNode(OpKind::ReLU, "bad", {99}));
  }

  void scopes() {
    Graph g;
    GraphBuilder b(g);
    ValueId x = b.input("input", {3, 8, 8});
    x = b.conv(x, "layer1.0.conv1", 4, 3);
    x = b.batchNorm(x, "layer1.0.bn1");
    x = b.conv(x, "layer10.conv", 4, 3);
    QCOMPARE(g.nodesInScope("layer1").size(), size_t(2));  // not layer10
    QCOMPARE(g.nodesInScope("layer1.0.bn1").size(), size_t(1));
    auto sd = g.stateDict();
    QCOMPARE(sd[0].first, std::string("layer1.0.conv1.weight"));
    QCOMPARE(sd[1].first, std::string("layer1.0.bn1.weight"));
    QCOMPARE(sd[3].first, std::string("layer1.0.bn1.running_mean"));
    QCOMPARE(g.stateDict(false).size(), size_t(4));  // conv w, bn w/b, conv w
  }

  // Shapes from the op table against what LibTorch actually computes.
  void shapeInferenceMatchesExecution_data() {
    QTest::addColumn<int>("op");
    QTest::newRow("conv stride 2 dilation 2") << 0;
    QTest::newRow("grouped conv") << 1;
    QTest::newRow("maxpool ceil") << 2;
    QTest::newRow("avgpool pad") << 3;
    QTest::newRow("upsample") << 4;
    QTest::newRow("split concat") << 5;
    QTest::newRow("flatten linear") << 6;
    QTest::newRow("attention: reshape transpose matmul softmax") << 7;
  }
  void shapeInferenceMatchesExecution() {
    QFETCH(int, op);
    Graph g;
    GraphBuilder b(g);
    ValueId x = b.input("input", {6, 11, 13});
    std::vector<ValueId> outs;
    switch (op) {
      case 0: outs = {b.conv(x, "c", 5, 3, 2, 1, 1, true, 2)}; break;
      case 1: outs = {b.conv(x, "c", 9, 3, 1, 1, 3)}; break;
      case 2:
        outs = {g.out(b.node(OpKind::MaxPool, "p", {x},
                             {{"kernel", std::vector<int64_t>{3, 3}}, {"stride", std::vector<int64_t>{2, 2}},
                              {"ceil_mode", int64_t{1}}}))};
        break;
      case 3:
        outs = {g.out(b.node(OpKind::AvgPool, "p", {x},
                             {{"kernel", std::vector<int64_t>{3, 3}}, {"stride", std::vector<int64_t>{2, 2}},
                              {"padding", std::vector<int64_t>{1, 1}}}))};
        break;
      case 4: outs = {g.out(b.node(OpKind::Upsample, "u", {x}, {{"scale", 2.0}}))}; break;
      case 5: {
        NodeId s = b.node(OpKind::Split, "s", {x}, {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{2, 4}}}, {}, 2);
        const auto so = g.node(s).outputs;
        outs = {so[0], g.out(b.node(OpKind::Concat, "cat", {so[1], so[0], x}, {{"axis", int64_t{1}}}))};
        break;
      }
      case 6: outs = {b.linear(b.flatten(x, "f"), "fc", 7)}; break;
      case 7: {
        const ValueId r = g.out(b.node(OpKind::Reshape, "r", {x}, {{"shape", std::vector<int64_t>{0, 2, 3, -1}}}));
        const ValueId t = g.out(b.node(OpKind::Transpose, "t", {r}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}}));
        const ValueId m = g.out(b.node(OpKind::MatMul, "mm", {t, r}, {{"alpha", 0.5}}));
        outs = {g.out(b.node(OpKind::Softmax, "sm", {m}, {{"axis", int64_t{-1}}}))};
        break;
      }
    }
    for (ValueId o : outs) g.markOutput(o);
    inferShapes(g, Shape{6, 11, 13});
    // Execute every node with its op's forward and compare shapes.
    std::vector<at::Tensor> vals(g.values().size());
    vals[0] = at::randn({1, 6, 11, 13});
    for (const Node& n : g.nodes()) {
      std::vector<at::Tensor> in;
      for (ValueId v : n.inputs) in.push_back(vals[v]);
      auto out = opSpec(n.op).forward(n, in, OpContext{});
      for (size_t i = 0; i < out.size(); ++i) {
        vals[n.outputs[i]] = out[i];
        QCOMPARE(out[i].sizes().vec(), g.value(n.outputs[i]).shape);
      }
    }
  }

  void shapeErrorsNameTheNode() {
    Graph g;
    GraphBuilder b(g);
    ValueId x = b.input("input", {3, 8, 8});
    b.output(b.conv(x, "stem.conv", 4, 3));
    try {
      inferShapes(g, Shape{5, 8, 8});
      QFAIL("no error for a channel mismatch");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("stem.conv") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("5 channels") != std::string::npos, e.what());
    }
    Graph tiny;
    GraphBuilder tb(tiny);
    tb.output(tb.conv(tb.input("input", {3, 4, 4}), "valid", 4, 3, 1, /*padding=*/0));
    QVERIFY_THROWS_EXCEPTION(Error, inferShapes(tiny, Shape{3, 2, 2}));  // 2x2 is smaller than the 3x3 kernel
  }

  void parseShapes() {
    QCOMPARE(parseShape("3x32x32"), (Shape{3, 32, 32}));
    QCOMPARE(parseShape("1,28,28"), (Shape{1, 28, 28}));
    QVERIFY_THROWS_EXCEPTION(Error, parseShape("3x-1"));
    QVERIFY_THROWS_EXCEPTION(Error, parseShape("abc"));
  }

  // Hand-computed counts (torchinfo convention, see analysis/cost.h).
  void costCounting() {
    Graph g;
    GraphBuilder b(g);
    ValueId x = b.input("input", {3, 16, 16});
    x = b.conv(x, "conv", 8, 3, 2, 1, 1, /*bias=*/true);  // out 8x8x8
    x = b.batchNorm(x, "bn");
    x = b.act(OpKind::ReLU, x, "relu");
    x = b.conv(x, "dw", 8, 3, 1, 1, 8);                   // depthwise, out 8x8x8
    x = b.globalAvgPool(x, "gap");
    x = b.flatten(x, "flat");
    b.output(b.linear(x, "fc", 10));
    inferShapes(g, Shape{3, 16, 16});
    const GraphCost c = computeCost(g);
    const int64_t convMacs = (8 * 3 * 9 + 8) * 64;  // weights + bias per output position
    const int64_t bnMacs = 16;
    const int64_t dwMacs = 8 * 1 * 9 * 64;
    const int64_t fcMacs = 10 * 8 + 10;
    QCOMPARE(c.macs, convMacs + bnMacs + dwMacs + fcMacs);
    QCOMPARE(c.params, int64_t(8 * 27 + 8 + 16 + 72 + 90));
    QCOMPARE(c.buffers, int64_t(16 + 1));
    QCOMPARE(c.sizeBytes, int64_t((8 * 27 + 8 + 16 + 72 + 90 + 16) * 4 + 8));
    QCOMPARE(c.layers[3].macs, dwMacs);
    // Folded BN (detectors): BN = one multiply-add per output element instead of 2C.
    const GraphCost t = computeCost(g, MacsConvention::FoldedBn);
    QCOMPARE(t.macs, convMacs + 8 * 64 + dwMacs + fcMacs);
    QCOMPARE(t.params, c.params);
    QCOMPARE(defaultConvention(g), MacsConvention::TorchInfo);
  }

  void opTableIsComplete() {
    for (int k = 0; k < kOpKindCount; ++k) {
      const OpSpec& s = opSpec(static_cast<OpKind>(k));
      QCOMPARE(static_cast<int>(s.kind), k);
      QVERIFY(s.forward != nullptr || s.lowered);  // a composite runs as its lowering (passes/)
      QVERIFY(s.inferShapes != nullptr);
      QCOMPARE(opKindFromName(opKindName(s.kind)), s.kind);
    }
  }
};

QTEST_APPLESS_MAIN(TestGraph)
#include "test_graph.moc"
