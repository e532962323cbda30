#include "models/graph_builder.h"

#include <ATen/ATen.h>

#include <cmath>

#include "ops/op_table.h"
#include "util/error.h"

namespace prunelab {

namespace {
NamedTensor param(const char* name, at::Tensor t) { return {name, std::move(t), false}; }
NamedTensor buffer(const char* name, at::Tensor t) { return {name, std::move(t), true}; }
}  // namespace

GraphBuilder::GraphBuilder(Graph& graph, LinearInit linearInit) : m_graph(graph), m_linearInit(linearInit) {}

ValueId GraphBuilder::input(const std::string& name, const Shape& chw) {
  Shape s = {1};
  s.insert(s.end(), chw.begin(), chw.end());
  return m_graph.addInput(name, s);
}

NodeId GraphBuilder::node(OpKind op, const std::string& scope, const std::vector<ValueId>& inputs, Attributes attrs,
                          std::vector<NamedTensor> tensors, int numOutputs) {
  const NodeId id = m_graph.addNode(op, scope, inputs, std::move(attrs), std::move(tensors), numOutputs);
  const Node& n = m_graph.node(id);
  std::vector<Shape> in;
  for (ValueId v : inputs) in.push_back(m_graph.value(v).shape);
  auto out = opSpec(op).inferShapes(n, in);
  for (size_t i = 0; i < out.size(); ++i) m_graph.value(n.outputs[i]).shape = out[i];
  return id;
}

void GraphBuilder::spendWeights(const std::string& scope, int64_t elements) {
  m_weights += elements;
  if (m_weightBudget >= 0 && m_weights > m_weightBudget)
    throw Error(scope, "the model would have more than " + std::to_string(m_weightBudget) +
                           " weight elements (the limit for a model built from a description)");
}

ValueId GraphBuilder::conv(ValueId x, const std::string& scope, int64_t outChannels, int64_t kernel, int64_t stride,
                           int64_t padding, int64_t groups, bool bias, int64_t dilation) {
  const int64_t in = channels(x);
  // Sizes may come from a model YAML: refuse what would divide by zero or allocate
  // gigabytes (the largest conv of YOLOv8x has 3.7M weights).
  constexpr int64_t kMaxWeights = int64_t{1} << 27;
  if (groups < 1 || outChannels < 1 || kernel < 1 || stride < 1 || dilation < 1)
    throw Error(scope, "channels, kernel, stride, dilation and groups must be positive");
  if (in % groups || outChannels % groups) throw Error(scope, "channels not divisible by groups");
  if (kernel > 1024 || double(outChannels) * double(in / groups) * double(kernel) * double(kernel) > double(kMaxWeights))
    throw Error(scope, "a " + std::to_string(outChannels) + "x" + std::to_string(in / groups) + "x" + std::to_string(kernel) +
                           "x" + std::to_string(kernel) + " weight is larger than " + std::to_string(kMaxWeights) + " elements");
  if (padding < 0) padding = (kernel / 2) * dilation;
  spendWeights(scope, outChannels * (in / groups) * kernel * kernel);
  at::Tensor w = at::empty({outChannels, in / groups, kernel, kernel});
  const double fanOut = static_cast<double>(outChannels) * kernel * kernel / groups;
  if (m_randomInit) w.normal_(0.0, std::sqrt(2.0 / fanOut));
  else w.zero_();
  std::vector<NamedTensor> t = {param("weight", w)};
  if (bias) t.push_back(param("bias", at::zeros({outChannels})));
  Attributes a{{"stride", std::vector<int64_t>{stride, stride}},
               {"padding", std::vector<int64_t>{padding, padding}},
               {"dilation", std::vector<int64_t>{dilation, dilation}},
               {"groups", groups}};
  return m_graph.out(node(OpKind::Conv, scope, {x}, std::move(a), std::move(t)));
}

ValueId GraphBuilder::batchNorm(ValueId x, const std::string& scope, double eps, double momentum) {
  const int64_t c = channels(x);
  std::vector<NamedTensor> t = {param("weight", at::ones({c})), param("bias", at::zeros({c})),
                                buffer("running_mean", at::zeros({c})), buffer("running_var", at::ones({c})),
                                buffer("num_batches_tracked", at::zeros({}, at::kLong))};
  return m_graph.out(node(OpKind::BatchNorm, scope, {x}, {{"eps", eps}, {"momentum", momentum}}, std::move(t)));
}

ValueId GraphBuilder::act(OpKind kind, ValueId x, const std::string& scope) {
  return m_graph.out(node(kind, scope, {x}));
}

ValueId GraphBuilder::add(ValueId a, ValueId b, const std::string& scope) {
  return m_graph.out(node(OpKind::Add, scope, {a, b}));
}

ValueId GraphBuilder::maxPool(ValueId x, const std::string& scope, int64_t kernel, int64_t stride, int64_t padding) {
  Attributes a{{"kernel", std::vector<int64_t>{kernel, kernel}},
               {"stride", std::vector<int64_t>{stride, stride}},
               {"padding", std::vector<int64_t>{padding, padding}}};
  return m_graph.out(node(OpKind::MaxPool, scope, {x}, std::move(a)));
}

ValueId GraphBuilder::globalAvgPool(ValueId x, const std::string& scope) {
  return m_graph.out(node(OpKind::GlobalAvgPool, scope, {x}));
}

ValueId GraphBuilder::flatten(ValueId x, const std::string& scope) {
  return m_graph.out(node(OpKind::Flatten, scope, {x}, {{"start_dim", int64_t{1}}}));
}

ValueId GraphBuilder::linear(ValueId x, const std::string& scope, int64_t outFeatures, bool bias) {
  const int64_t in = shape(x).back();
  if (outFeatures < 1 || double(outFeatures) * double(in) > 9e18) throw Error(scope, "bad number of features");
  spendWeights(scope, outFeatures * in);
  at::Tensor w = at::empty({outFeatures, in});
  at::Tensor b;
  if (!m_randomInit) {
    w.zero_();
    if (bias) b = at::zeros({outFeatures});
  } else if (m_linearInit == LinearInit::Normal001) {
    w.normal_(0.0, 0.01);
    if (bias) b = at::zeros({outFeatures});
  } else {
    // kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    w.uniform_(-bound, bound);
    if (bias) b = at::empty({outFeatures}).uniform_(-bound, bound);
  }
  std::vector<NamedTensor> t = {param("weight", w)};
  if (bias) t.push_back(param("bias", b));
  return m_graph.out(node(OpKind::Linear, scope, {x}, {}, std::move(t)));
}

ValueId GraphBuilder::dropout(ValueId x, const std::string& scope, double p) {
  return m_graph.out(node(OpKind::Dropout, scope, {x}, {{"p", p}}));
}

}  // namespace prunelab
