// Every op kind owns its whole life: for EVERY OpKind, the op table must give
// a forward runner, a shape rule, a cost rule (or say it costs nothing), a channel rule,
// an ONNX export form and a TorchScript form (a composite op: a lowering pass whose
// primitives have them) - and the forms must work: a tiny graph
// holding the op is exported to ONNX in memory and imported back (with PruneLab's tags:
// the same structure, tensors and outputs; without them, through the per-op-type
// converters: the same outputs), and exported to TorchScript, loaded and run.
// Its shape rule must give the shapes its forward makes, and where its channels can be
// cut, surgery through it must compute what masking the cut channels computes (its
// declared layout is what surgery slices: a wrong dim shows up there).
// Each failure names the op and the missing or broken form. A new op without a sample
// graph below fails too: add one next to the others (and a pruning harness in
// op_cut_harness.h when its channel rule lets channels through).

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/import.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "exec/lowered_runner.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/torchscript_export.h"
#include "ops/op_table.h"
#include "op_cut_harness.h"
#include "passes/lowering.h"
#include "pruning/dependency_graph.h"
#include "pruning/surgery.h"
#include "test_helpers.h"

using namespace prunelab;

namespace {

// Every sample graph reads one or two inputs of this size.
const Shape kChw = {10, 6, 6};
constexpr int64_t C = 10;

at::Tensor randn(std::vector<int64_t> s) { return at::randn(s); }

// A graph of one op (plus what it needs around it), its inputs x (and y) [1, 10, 6, 6].
struct Sample {
  Graph graph;
  ValueId x = -1, y = -1;
};

Sample start(bool twoInputs = false) {
  Sample s;
  s.x = s.graph.addInput("x", {1, kChw[0], kChw[1], kChw[2]});
  if (twoInputs) s.y = s.graph.addInput("y", {1, kChw[0], kChw[1], kChw[2]});
  return s;
}
Sample unary(OpKind op, Attributes attrs = {}) {
  Sample s = start();
  s.graph.markOutput(s.graph.out(s.graph.addNode(op, "op", {s.x}, std::move(attrs))));
  return s;
}
Sample binary(OpKind op) {
  Sample s = start(true);
  s.graph.markOutput(s.graph.out(s.graph.addNode(op, "op", {s.x, s.y})));
  return s;
}

using Maker = std::function<Sample()>;

const std::map<OpKind, Maker>& samples() {
  static const std::map<OpKind, Maker> m = {
      {OpKind::Conv,
       [] {
         Sample s = start();
         s.graph.markOutput(s.graph.out(s.graph.addNode(
             OpKind::Conv, "conv", {s.x},
             {{"stride", std::vector<int64_t>{1, 1}}, {"padding", std::vector<int64_t>{1, 1}},
              {"dilation", std::vector<int64_t>{1, 1}}, {"groups", int64_t{1}}},
             {{"weight", randn({8, C, 3, 3}), false}, {"bias", randn({8}), false}})));
         return s;
       }},
      {OpKind::BatchNorm,
       [] {
         Sample s = start();
         s.graph.markOutput(s.graph.out(s.graph.addNode(
             OpKind::BatchNorm, "bn", {s.x}, {{"eps", 1e-5}, {"momentum", 0.1}},
             {{"weight", randn({C}), false},
              {"bias", randn({C}), false},
              {"running_mean", randn({C}), true},
              {"running_var", at::rand({C}) + 0.5, true},
              {"num_batches_tracked", at::zeros({}, at::kLong), true}})));
         return s;
       }},
      {OpKind::ReLU, [] { return unary(OpKind::ReLU); }},
      {OpKind::ReLU6, [] { return unary(OpKind::ReLU6); }},
      {OpKind::SiLU, [] { return unary(OpKind::SiLU); }},
      {OpKind::LeakyReLU, [] { return unary(OpKind::LeakyReLU, {{"negative_slope", 0.1}}); }},
      {OpKind::Sigmoid, [] { return unary(OpKind::Sigmoid); }},
      {OpKind::Hardswish, [] { return unary(OpKind::Hardswish); }},
      {OpKind::Add, [] { return binary(OpKind::Add); }},
      {OpKind::Mul, [] { return binary(OpKind::Mul); }},
      {OpKind::Sub, [] { return binary(OpKind::Sub); }},
      {OpKind::Div, [] { return binary(OpKind::Div); }},
      {OpKind::Pow,
       [] {  // a positive base: sigmoid(x) ** y
         Sample s = start(true);
         const ValueId base = s.graph.out(s.graph.addNode(OpKind::Sigmoid, "base", {s.x}));
         s.graph.markOutput(s.graph.out(s.graph.addNode(OpKind::Pow, "op", {base, s.y})));
         return s;
       }},
      {OpKind::Concat,
       [] {
         Sample s = start(true);
         s.graph.markOutput(s.graph.out(s.graph.addNode(OpKind::Concat, "op", {s.x, s.y}, {{"axis", int64_t{1}}})));
         return s;
       }},
      {OpKind::Split,
       [] {  // unequal parts (ONNX: one Slice each)
         Sample s = start();
         const NodeId n =
             s.graph.addNode(OpKind::Split, "op", {s.x}, {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{3, 7}}}, {}, 2);
         for (ValueId v : s.graph.node(n).outputs) s.graph.markOutput(v);
         return s;
       }},
      {OpKind::MaxPool,
       [] {
         return unary(OpKind::MaxPool, {{"kernel", std::vector<int64_t>{3, 3}}, {"stride", std::vector<int64_t>{2, 2}},
                                        {"padding", std::vector<int64_t>{1, 1}}, {"dilation", std::vector<int64_t>{1, 1}},
                                        {"ceil_mode", int64_t{0}}});
       }},
      {OpKind::AvgPool,
       [] {
         return unary(OpKind::AvgPool, {{"kernel", std::vector<int64_t>{2, 2}}, {"stride", std::vector<int64_t>{2, 2}},
                                        {"padding", std::vector<int64_t>{0, 0}}, {"ceil_mode", int64_t{0}},
                                        {"count_include_pad", int64_t{1}}});
       }},
      {OpKind::GlobalAvgPool, [] { return unary(OpKind::GlobalAvgPool); }},
      {OpKind::Upsample, [] { return unary(OpKind::Upsample, {{"scale", 2.0}}); }},
      {OpKind::Flatten, [] { return unary(OpKind::Flatten, {{"start_dim", int64_t{1}}}); }},
      {OpKind::Linear,
       [] {  // [N, I] (Gemm) after a Flatten
         Sample s = start();
         const ValueId f = s.graph.out(s.graph.addNode(OpKind::Flatten, "flatten", {s.x}, {{"start_dim", int64_t{1}}}));
         s.graph.markOutput(s.graph.out(s.graph.addNode(OpKind::Linear, "fc", {f}, {},
                                                        {{"weight", randn({5, C * 36}), false}, {"bias", randn({5}), false}})));
         return s;
       }},
      {OpKind::Dropout, [] { return unary(OpKind::Dropout, {{"p", 0.5}}); }},
      {OpKind::Identity, [] { return unary(OpKind::Identity); }},
      {OpKind::Reshape, [] { return unary(OpKind::Reshape, {{"shape", std::vector<int64_t>{0, C, 36}}}); }},
      {OpKind::Transpose, [] { return unary(OpKind::Transpose, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}); }},
      {OpKind::MatMul,
       [] {
         Sample s = start(true);
         s.graph.markOutput(s.graph.out(s.graph.addNode(OpKind::MatMul, "op", {s.x, s.y}, {{"alpha", 0.5}})));
         return s;
       }},
      {OpKind::Softmax, [] { return unary(OpKind::Softmax, {{"axis", int64_t{1}}}); }},
      {OpKind::Unflatten,
       [] { return unary(OpKind::Unflatten, {{"dim", int64_t{1}}, {"sizes", std::vector<int64_t>{2, 5}}}); }},
      {OpKind::DetectDecode,
       [] {  // DFL style, reg_max 2: 4 * 2 box bins + 2 classes = 10 channels
         Sample s = start();
         at::Tensor bins = at::arange(2, at::kFloat).reshape({1, 2, 1, 1});
         s.graph.markOutput(s.graph.out(s.graph.addNode(
             OpKind::DetectDecode, "decode", {s.x},
             {{"style", std::string("dfl")}, {"strides", std::vector<int64_t>{8}}, {"nc", int64_t{2}}, {"reg_max", int64_t{2}}},
             {{"weight", bins, false}})));
         return s;
       }},
      {OpKind::Constant,
       [] {  // a graph output cannot be a constant: x + constant
         Sample s = start();
         const ValueId k = s.graph.out(s.graph.addNode(OpKind::Constant, "k", {}, {}, {{"value", randn({C, 1, 1}), true}}));
         s.graph.markOutput(s.graph.out(s.graph.addNode(OpKind::Add, "op", {s.x, k})));
         return s;
       }},
      {OpKind::Slice,
       [] {
         return unary(OpKind::Slice, {{"axes", std::vector<int64_t>{1, 3}}, {"starts", std::vector<int64_t>{1, 0}},
                                      {"ends", std::vector<int64_t>{8, 100}}, {"steps", std::vector<int64_t>{2, 1}}});
       }},
  };
  return m;
}

// The sample for `op` with shapes inferred, or a failure naming the op.
bool makeSample(OpKind op, Sample& s) {
  auto it = samples().find(op);
  if (it == samples().end()) return false;
  at::manual_seed(static_cast<uint64_t>(op) + 1);
  s = it->second();
  std::vector<Shape> in;
  for (ValueId v : s.graph.inputs()) in.push_back(s.graph.value(v).shape);
  inferShapes(s.graph, in);
  return true;
}

std::vector<at::Tensor> inputsFor(const Sample& s) {
  at::manual_seed(7);
  std::vector<at::Tensor> r;
  for (size_t i = 0; i < s.graph.inputs().size(); ++i) r.push_back(at::randn({1, kChw[0], kChw[1], kChw[2]}));
  return r;
}

std::vector<at::Tensor> run(const Graph& graph, const std::vector<at::Tensor>& inputs) {
  Graph g = graph.share();
  return runInference(g, inputs, "cpu");
}

bool close(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::allclose(a.to(at::kDouble), b.to(at::kDouble), 1e-4, 1e-5, /*equal_nan=*/true);
}

QString what(OpKind op, const std::string& s) { return QString("%1: %2").arg(opKindName(op)).arg(QString::fromStdString(s)); }

// Same nodes (op, name, scope, attrs, wiring, tensors) and value names.
std::string structureDifference(const Graph& a, const Graph& b) {
  if (a.nodes().size() != b.nodes().size()) return "node count " + std::to_string(a.nodes().size()) + " vs " + std::to_string(b.nodes().size());
  if (a.inputs() != b.inputs() || a.outputs() != b.outputs()) return "graph inputs/outputs differ";
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node& x = a.nodes()[i];
    const Node& y = b.nodes()[i];
    if (x.op != y.op) return x.name + ": op " + opKindName(x.op) + " came back as " + opKindName(y.op);
    if (x.name != y.name || x.scope != y.scope) return x.name + ": name/scope came back as " + y.name + "/" + y.scope;
    if (!(x.attrs == y.attrs)) return x.name + ": attributes differ";
    if (x.inputs != y.inputs || x.outputs != y.outputs) return x.name + ": wiring differs";
    if (x.tensors.size() != y.tensors.size()) return x.name + ": tensor count differs";
    for (size_t t = 0; t < x.tensors.size(); ++t)
      if (x.tensors[t].name != y.tensors[t].name || x.tensors[t].isBuffer != y.tensors[t].isBuffer ||
          !at::equal(x.tensors[t].tensor, y.tensors[t].tensor))
        return x.name + "." + x.tensors[t].name + " differs";
  }
  for (size_t v = 0; v < a.values().size() && v < b.values().size(); ++v)
    if (a.values()[v].name != b.values()[v].name) return "value " + a.values()[v].name + " came back as " + b.values()[v].name;
  return {};
}

// The constant channel `c` of value `v` carries when every input channel is the constant
// in `given` (one value per channel per graph input), by the ops' constantFn rules.
std::optional<double> constantAt(const Graph& g, ValueId v, int64_t c, const std::map<ValueId, at::Tensor>& given) {
  const Value& value = g.value(v);
  if (value.producer < 0) return given.at(v)[c].item<double>();
  const Node& n = g.node(value.producer);
  const ConstantFn fn = opSpec(n.op).constantFn;
  if (!fn) return std::nullopt;
  return fn(ConstantQuery{g, n, c, [&](size_t i, int64_t ch) { return constantAt(g, n.inputs.at(i), ch, given); }});
}

// Runs `graph` node by node at batch `batch` (each op's own forward; a lowered op's
// fragment) and compares each node's shape rule, given its inputs' real shapes, with the
// shapes its forward made. "" when all agree and a node of kind `op` was checked.
std::string shapeMismatch(const Graph& graph, OpKind op, int64_t batch) {
  at::manual_seed(11);
  at::NoGradGuard noGrad;
  std::map<ValueId, at::Tensor> values;
  for (ValueId v : graph.inputs()) values[v] = at::randn({batch, kChw[0], kChw[1], kChw[2]});
  int checked = 0;
  LoweredRunner lowered;
  for (const Node& n : graph.nodes()) {
    const OpSpec& spec = opSpec(n.op);
    std::vector<at::Tensor> in;
    std::vector<Shape> inShapes;
    for (ValueId v : n.inputs) {
      in.push_back(values.at(v));
      inShapes.push_back(in.back().sizes().vec());
    }
    // A lowered op's forward is its fragment, run as the executor runs it.
    const std::vector<at::Tensor> out = spec.lowered ? lowered.run(n, in, OpContext{}) : spec.forward(n, in, OpContext{});
    const std::vector<Shape> rule = spec.inferShapes(n, inShapes);
    if (rule.size() != out.size())
      return n.name + " (" + opKindName(n.op) + "): the shape rule gives " + std::to_string(rule.size()) +
             " outputs, forward makes " + std::to_string(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      if (rule[i] != out[i].sizes().vec())
        return n.name + " (" + opKindName(n.op) + "): the shape rule gives output " + std::to_string(i) + " " +
               shapeToString(rule[i]) + ", forward makes " + shapeToString(out[i].sizes().vec());
      values[n.outputs[i]] = out[i];
    }
    checked += n.op == op;
  }
  return checked ? "" : "the sample graph does not contain the op";
}

// The message of any exception `fn` throws (a wrong layout makes ATen throw c10::Error
// from surgery's slicing, not prunelab::Error), or "".
std::string anyErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

// A channel rule that lets channels through (the op's channels can be cut).
bool channelsPassThrough(OpKind op) {
  const ChannelRule r = opSpec(op).channelRule;
  return r != ChannelRule::Pin && r != ChannelRule::Undeclared;
}

// Cuts channels 1 and 3 of every group of `graph` (a pruning harness) by surgery and by
// masking (op_cut_harness.h); "" when their outputs agree within 1e-5 (relative to the
// outputs' scale, at least 1) and the cut went through node "op".
std::string cutMismatch(Graph graph) {
  inferShapes(graph, kChw);
  const DependencyGraph deps(graph);
  PrunePlan plan;
  plan.removed = test::cutOneAndThree(deps);
  const auto kept = deps.keptChannels(plan.removed);
  const Node* op = graph.findNode("op");
  if (!op) return "the harness has no node named 'op'";
  bool through = false;
  for (const std::vector<ValueId>* vs : {&op->inputs, &op->outputs})
    for (ValueId v : *vs) through = through || static_cast<int64_t>(kept[v].size()) < deps.channelCount(v);
  if (!through) return "the plan cuts no channel of the op's inputs or outputs (is it pinned?)";
  Graph cut;
  std::string err = anyErrorOf([&] { cut = applySurgery(deps, plan).graph; });
  if (!err.empty()) return "surgery failed: " + err.substr(0, err.find('\n'));
  const Graph masked = test::maskedReference(graph, kept);
  at::manual_seed(5);
  const std::vector<at::Tensor> inputs{at::randn({1, kChw[0], kChw[1], kChw[2]})};
  std::vector<at::Tensor> got, want;
  err = anyErrorOf([&] { got = run(cut, inputs); });
  if (!err.empty()) return "the cut graph does not run: " + err;
  want = run(masked, inputs);
  if (got.size() != want.size()) return "output count differs";
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].sizes() != want[i].sizes())
      return "output " + std::to_string(i) + ": cut " + shapeToString(got[i].sizes().vec()) + ", masked " +
             shapeToString(want[i].sizes().vec());
    const double scale = std::max(1.0, want[i].abs().max().item<double>());
    const double diff = (got[i].to(at::kDouble) - want[i].to(at::kDouble)).abs().max().item<double>();
    if (diff > 1e-5 * scale)
      return "output " + std::to_string(i) + ": cut and masked differ by " + std::to_string(diff) + " (scale " +
             std::to_string(scale) + ")";
  }
  return "";
}

}  // namespace

class TestOpCompleteness : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  static void addRows() {
    QTest::addColumn<int>("kind");
    for (int k = 0; k < kOpKindCount; ++k) QTest::newRow(opKindName(static_cast<OpKind>(k))) << k;
  }

 private Q_SLOTS:
  void everyOpDeclaresEveryRule_data() { addRows(); }
  void everyOpDeclaresEveryRule() {
    QFETCH(int, kind);
    const OpKind op = static_cast<OpKind>(kind);
    const OpSpec& s = opSpec(op);
    QVERIFY2(s.kind == op, qPrintable(what(op, "the table's entry is for another op")));
    // A composite (OpSpec::lowered) has its lowering pass instead of forms of its own;
    // the primitives of the fragment it makes must have every form themselves.
    QVERIFY2(!s.lowered || passes::loweringFor(op), qPrintable(what(op, "says it is lowered but has no lowering pass")));
    QVERIFY2(!(s.lowered && (s.forward || s.onnxExport || s.torchScript)),
             qPrintable(what(op, "is lowered and also has forms of its own (two definitions to keep equal)")));
    QVERIFY2(s.forward || s.lowered, qPrintable(what(op, "no forward runner (OpSpec::forward)")));
    QVERIFY2(s.inferShapes, qPrintable(what(op, "no shape rule (OpSpec::inferShapes)")));
    QVERIFY2(s.macsPerElement || s.zeroCost,
             qPrintable(what(op, "no cost rule (OpSpec::macsPerElement, or zeroCost = true for an op that costs nothing)")));
    QVERIFY2(!(s.macsPerElement && s.zeroCost), qPrintable(what(op, "has a cost rule and says it costs nothing")));
    QVERIFY2(s.channelRule != ChannelRule::Undeclared, qPrintable(what(op, "no channel rule (OpSpec::channelRule)")));
    QVERIFY2(s.onnxExport || s.lowered, qPrintable(what(op, "no ONNX export form (OpSpec::onnxExport)")));
    QVERIFY2(s.torchScript || s.lowered, qPrintable(what(op, "no TorchScript form (OpSpec::torchScript)")));
    QVERIFY2(!(s.isActivation && !s.isElementwise), qPrintable(what(op, "an activation must be elementwise")));
    QVERIFY2(!s.isChannelSource || (outChannelDim(op, "weight") >= 0 && inChannelDim(op, "weight") >= 0),
             qPrintable(what(op, "a channel source must declare its weight's out and in channel dims (OpSpec::layout)")));
    QVERIFY2(s.normScale.empty() == s.normShift.empty(),
             qPrintable(what(op, "a channel normalisation declares both its scale and its shift")));
    for (const std::string* t : {&s.normScale, &s.normShift})
      QVERIFY2(t->empty() || outChannelDim(op, *t) == 0,
               qPrintable(what(op, "its norm tensor '" + *t + "' must be a [C] tensor in its layout")));
    Sample sample;
    QVERIFY2(makeSample(op, sample), qPrintable(what(op, "no sample graph in test_op_completeness.cpp")));
    QVERIFY2(!run(sample.graph, inputsFor(sample)).empty(), qPrintable(what(op, "forward produced nothing")));
    if (s.lowered) {
      inferShapes(sample.graph, kChw);
      int lowered = 0;  // the sample holds the op, and its lowering makes something
      for (const Node& n : sample.graph.nodes()) {
        if (n.op != op) continue;
        std::vector<Shape> shapes;
        for (ValueId v : n.inputs) shapes.push_back(sample.graph.value(v).shape);
        const Graph fragment = passes::lowerNode(n, shapes);
        QVERIFY2(!fragment.nodes().empty(), qPrintable(what(op, "its lowering is empty")));
        ++lowered;
        for (const Node& f : fragment.nodes()) {
          const OpSpec& fs = opSpec(f.op);
          QVERIFY2(fs.forward && fs.onnxExport && fs.torchScript && !fs.lowered,
                   qPrintable(what(op, "its lowering makes " + std::string(opKindName(f.op)) + ", not a primitive with every form")));
        }
      }
      QVERIFY2(lowered > 0, qPrintable(what(op, "the sample graph does not contain the op")));
    }
  }

  // Tagged: import(export(g)) == g, outputs equal. Untagged (what other tools' files go
  // through): the per-ONNX-op converters rebuild a graph with the same outputs.
  void everyOpRoundTripsThroughOnnx_data() { addRows(); }
  void everyOpRoundTripsThroughOnnx() {
    QFETCH(int, kind);
    const OpKind op = static_cast<OpKind>(kind);
    Sample s;
    QVERIFY2(makeSample(op, s), qPrintable(what(op, "no sample graph in test_op_completeness.cpp")));
    const auto inputs = inputsFor(s);
    const auto expected = run(s.graph, inputs);
    for (int opset : {13, 17}) {
      OnnxExportOptions o;
      o.opset = opset;
      std::string bytes;
      std::string err = test::errorOf([&] { bytes = exportOnnxToString(s.graph, o, kChw); });
      QVERIFY2(err.empty(), qPrintable(what(op, "ONNX export failed: " + err)));
      for (bool tags : {true, false}) {
        const std::string how = std::string(tags ? "tagged" : "untagged") + " ONNX import (opset " + std::to_string(opset) + ")";
        Graph back;
        err = test::errorOf([&] { back = importOnnxFromString(bytes, OnnxImportOptions{tags}); });
        QVERIFY2(err.empty(), qPrintable(what(op, how + " failed: " + err)));
        if (tags) {
          const std::string diff = structureDifference(s.graph, back);
          QVERIFY2(diff.empty(), qPrintable(what(op, how + " changed the graph: " + diff)));
        }
        const auto got = run(back, inputs);
        QVERIFY2(got.size() == expected.size(), qPrintable(what(op, how + ": output count differs")));
        for (size_t i = 0; i < got.size(); ++i)
          QVERIFY2(close(got[i], expected[i]), qPrintable(what(op, how + ": output " + std::to_string(i) + " differs")));
      }
    }
  }

  // The generated module compiles, loads and computes what the executor computes.
  void everyOpRunsAsTorchScript_data() { addRows(); }
  void everyOpRunsAsTorchScript() {
    QFETCH(int, kind);
    const OpKind op = static_cast<OpKind>(kind);
    Sample s;
    QVERIFY2(makeSample(op, s), qPrintable(what(op, "no sample graph in test_op_completeness.cpp")));
    const auto inputs = inputsFor(s);
    const auto expected = run(s.graph, inputs);
    const std::string path = (m_dir.path() + "/" + opKindName(op) + ".pt").toStdString();
    const std::string err = test::errorOf([&] { exportTorchScript(s.graph, path, kChw); });
    QVERIFY2(err.empty(), qPrintable(what(op, "TorchScript export failed: " + err)));
    torch::jit::Module m = torch::jit::load(path);
    m.eval();
    torch::NoGradGuard noGrad;
    std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    const c10::IValue out = m.forward(args);
    std::vector<at::Tensor> got;
    if (out.isTensor()) got.push_back(out.toTensor());
    else
      for (const auto& v : out.toTuple()->elements()) got.push_back(v.toTensor());
    QVERIFY2(got.size() == expected.size(), qPrintable(what(op, "TorchScript: output count differs")));
    for (size_t i = 0; i < got.size(); ++i)
      QVERIFY2(close(got[i], expected[i]), qPrintable(what(op, "TorchScript: output " + std::to_string(i) + " differs")));
  }

  // Where an op says a per-channel constant survives it (OpSpec::constantFn, surgery's
  // beta folding), its forward agrees: feed constant channels, compare every output element.
  void constantRulesMatchForward_data() { addRows(); }
  void constantRulesMatchForward() {
    QFETCH(int, kind);
    const OpKind op = static_cast<OpKind>(kind);
    Sample s;
    QVERIFY2(makeSample(op, s), qPrintable(what(op, "no sample graph in test_op_completeness.cpp")));
    // BatchNorm's rule is the beta of a channel whose gamma is 0 (what surgery folds).
    for (Node& n : s.graph.nodes())
      if (n.op == OpKind::BatchNorm) n.tensor("weight").zero_();
    std::map<ValueId, at::Tensor> given;
    std::vector<at::Tensor> inputs;
    for (size_t i = 0; i < s.graph.inputs().size(); ++i) {
      const at::Tensor k = at::linspace(-4.0 + static_cast<double>(i), 3.0, C, at::kDouble);  // one value per channel
      given[s.graph.inputs()[i]] = k;
      inputs.push_back(k.to(at::kFloat).view({1, C, 1, 1}).expand({1, C, kChw[1], kChw[2]}).contiguous());
    }
    const auto outs = run(s.graph, inputs);
    int checked = 0;
    for (size_t o = 0; o < outs.size(); ++o) {
      const Shape& shape = s.graph.value(s.graph.outputs()[o]).shape;
      if (shape.size() < 2) continue;
      for (int64_t c = 0; c < shape[1]; ++c) {
        const auto k = constantAt(s.graph, s.graph.outputs()[o], c, given);
        if (!k) continue;
        const double err = (outs[o].select(1, c).to(at::kDouble) - *k).abs().max().item<double>();
        QVERIFY2(err <= 1e-5 * std::max(1.0, std::abs(*k)),
                 qPrintable(what(op, "constantFn says channel " + std::to_string(c) + " holds " + std::to_string(*k) +
                                         ", forward differs by " + std::to_string(err))));
        ++checked;
      }
    }
    if (opSpec(op).constantFn && op != OpKind::Reshape && checked == 0)
      QFAIL(qPrintable(what(op, "has a constantFn but the sample checks none of it")));
  }

  // The shape rule (OpSpec::inferShapes) says what the forward makes: every node of the
  // op's sample runs at batch 2 (the rules include the batch dim), and the rule, given its
  // inputs' real shapes, must give each output's real shape.
  void everyShapeRuleMatchesForward_data() { addRows(); }
  void everyShapeRuleMatchesForward() {
    QFETCH(int, kind);
    const OpKind op = static_cast<OpKind>(kind);
    Sample s;
    QVERIFY2(makeSample(op, s), qPrintable(what(op, "no sample graph in test_op_completeness.cpp")));
    std::string mismatch;
    const std::string err = test::errorOf([&] { mismatch = shapeMismatch(s.graph, op, 2); });
    QVERIFY2(err.empty(), qPrintable(what(op, "running the sample failed: " + err)));
    QVERIFY2(mismatch.empty(), qPrintable(what(op, mismatch)));
  }

  // Where an op's channels can be cut (its channel rule lets them through), cutting them
  // through it (surgery: its declared layout, its resized attributes) computes what the
  // unpruned graph computes with those channels masked (op_cut_harness.h): same outputs
  // within 1e-5. An op whose channels cannot be cut says so by its Pin rule.
  void everyPrunableOpCutsLikeAMask_data() { addRows(); }
  void everyPrunableOpCutsLikeAMask() {
    QFETCH(int, kind);
    const OpKind op = static_cast<OpKind>(kind);
    if (!channelsPassThrough(op)) QSKIP("channels are pinned through this op: nothing to cut");
    const auto it = test::cutHarnesses().find(op);
    QVERIFY2(it != test::cutHarnesses().end(), qPrintable(what(op, "no pruning harness in op_cut_harness.h")));
    for (const test::CutHarness& h : it->second) {
      at::manual_seed(static_cast<uint64_t>(op) + 101);
      std::string mismatch;
      const std::string err = anyErrorOf([&] { mismatch = cutMismatch(h.build()); });
      QVERIFY2(err.empty(), qPrintable(what(op, h.name + " harness: cutting failed: " + err.substr(0, err.find('\n')))));
      QVERIFY2(mismatch.empty(), qPrintable(what(op, h.name + " harness: " + mismatch)));
    }
  }

  // The ONNX op types that committed ONNX files use have converters, and the files import
  // through them. The files (tests/fuzz/corpus/fuzz_onnx, without the regress_* cases) are
  // PyTorch's own exports (net_op13, net_op17, res_op11: tests/fuzz/make_corpus.py) and
  // PruneLab's exports of the demo models and a YOLO-like net (folded: plain ONNX; tagged: with
  // PruneLab's tags, which this import ignores). Their op types are listed here by hand, as the
  // onnx package reads them. The import evaluates constant subgraphs (Constant, Shape, Gather,
  // Unsqueeze on known shapes) itself, without a converter.
  void importConvertersCoverCommittedOnnxFiles() {
    const std::set<std::string> net = {"Add", "Constant", "Conv", "Flatten", "Gemm", "GlobalAveragePool",
                                       "MaxPool", "Mul", "Relu", "Sigmoid"};
    const std::set<std::string> classifier = {"Conv", "Flatten", "Gemm", "GlobalAveragePool", "MaxPool", "Mul",
                                              "Sigmoid"};
    const std::set<std::string> detector = {"Add",     "Concat",  "Conv",    "MaxPool", "Mul",      "Pow",
                                            "Reshape", "Resize",  "Sigmoid", "Slice",   "Transpose"};
    const std::set<std::string> yololike = {"Add", "Concat", "Conv", "MaxPool", "Mul", "Resize", "Sigmoid", "Split"};
    auto withBn = [](std::set<std::string> s) {
      s.insert("BatchNormalization");
      return s;
    };
    const std::map<std::string, std::set<std::string>> files = {
        {"net_op13.onnx", net},
        {"net_op17.onnx", net},
        {"res_op11.onnx", {"Concat", "Constant", "Conv", "Gather", "Reshape", "Resize", "Shape", "Unsqueeze"}},
        {"classifier_folded_op13.onnx", classifier},
        {"classifier_tagged.onnx", withBn(classifier)},
        {"detector_folded_op13.onnx", detector},
        {"detector_tagged.onnx", withBn(detector)},
        {"yololike_folded_op13.onnx", yololike},
        {"yololike_tagged.onnx", withBn(yololike)},
    };
    const std::set<std::string> evaluatedAtImport = {"Constant", "Shape", "Gather", "Unsqueeze"};
    std::set<std::string> converted;
    for (const auto& [file, expected] : files) {
      const std::string path = std::string(PRUNELAB_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_onnx/" + file;
      std::ifstream in(path, std::ios::binary);
      onnx::ModelProto model;
      QVERIFY2(in && model.ParseFromIstream(&in), path.c_str());
      std::set<std::string> used;
      for (const auto& n : model.graph().node()) used.insert(n.op_type());
      std::string listed;
      for (const auto& t : used) listed += " " + t;
      QVERIFY2(used == expected, (file + " uses:" + listed).c_str());
      for (const auto& t : used) {
        if (evaluatedAtImport.count(t)) continue;
        QVERIFY2(onnxImporter(t) != nullptr, (file + ": no converter for " + t).c_str());
        converted.insert(t);
      }
      OnnxImportOptions plain;
      plain.useTags = false;
      const std::string err = test::errorOf([&] {
        const Graph g = importOnnx(path, plain);
        if (std::none_of(g.nodes().begin(), g.nodes().end(), [](const Node& n) { return n.op == OpKind::Conv; }))
          throw Error(path, "imported without a Conv");
      });
      QVERIFY2(err.empty(), err.c_str());
    }
    QCOMPARE(converted.size(), size_t{17});  // the op types above, less those evaluated at import
    QVERIFY(onnxImporter("NoSuchOp") == nullptr);
  }
};

QTEST_GUILESS_MAIN(TestOpCompleteness)
#include "test_op_completeness.moc"
