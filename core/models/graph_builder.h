#pragma once
// GraphBuilder: writes model definitions the way PyTorch modules read, with shapes
// inferred as nodes are added (so a conv knows its input channels) and tensors
// initialised as PyTorch's modules would initialise them.

#include <cstdint>
#include <string>

#include "graph/graph.h"

namespace prunelab {

enum class LinearInit {
  PyTorchDefault,  // kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias (nn.Linear)
  Normal001,       // N(0, 0.01) weight, zero bias (torchvision MobileNetV2, CIFAR VGG)
};

class GraphBuilder {
 public:
  // Conv weights: kaiming_normal(fan_out, relu), as torchvision's ResNet/MobileNetV2/VGG.
  explicit GraphBuilder(Graph& graph, LinearInit linearInit = LinearInit::PyTorchDefault);

  // `chw` without the batch dim; the builder works at batch 1.
  ValueId input(const std::string& name, const Shape& chw);
  void output(ValueId v) { m_graph.markOutput(v); }

  // padding < 0 means k/2 * dilation ("same" for odd kernels at stride 1).
  ValueId conv(ValueId x, const std::string& scope, int64_t outChannels, int64_t kernel, int64_t stride = 1,
               int64_t padding = -1, int64_t groups = 1, bool bias = false, int64_t dilation = 1);
  ValueId batchNorm(ValueId x, const std::string& scope, double eps = 1e-5, double momentum = 0.1);
  ValueId act(OpKind kind, ValueId x, const std::string& scope);
  ValueId add(ValueId a, ValueId b, const std::string& scope);
  ValueId maxPool(ValueId x, const std::string& scope, int64_t kernel, int64_t stride, int64_t padding = 0);
  ValueId globalAvgPool(ValueId x, const std::string& scope);
  ValueId flatten(ValueId x, const std::string& scope);
  ValueId linear(ValueId x, const std::string& scope, int64_t outFeatures, bool bias = true);
  ValueId dropout(ValueId x, const std::string& scope, double p);

  // Generic: add a node and infer its output shapes immediately.
  NodeId node(OpKind op, const std::string& scope, const std::vector<ValueId>& inputs, Attributes attrs = {},
              std::vector<NamedTensor> tensors = {}, int numOutputs = 1);

  int64_t channels(ValueId v) const { return m_graph.value(v).shape.at(1); }
  const Shape& shape(ValueId v) const { return m_graph.value(v).shape; }
  Graph& graph() { return m_graph; }

  // At most `elements` Conv/Linear weight elements in all (-1: no limit): sizes that come
  // from a file (model YAML) are refused before they allocate gigabytes, with an error
  // naming the layer that crossed the limit.
  void setWeightBudget(int64_t elements) { m_weightBudget = elements; }
  // false: Conv/Linear weights are zeros instead of random, for graphs built only to be
  // analysed (shapes, costs, a file's structure), where the random draw is most of the build.
  void setRandomInit(bool on) { m_randomInit = on; }

 private:
  void spendWeights(const std::string& scope, int64_t elements);

  Graph& m_graph;
  LinearInit m_linearInit;
  bool m_randomInit = true;
  int64_t m_weightBudget = -1;
  int64_t m_weights = 0;
};

}  // namespace prunelab
