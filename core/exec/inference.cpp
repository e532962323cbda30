#include "exec/inference.h"

#include <torch/torch.h>

#include "analysis/shape_inference.h"
#include "exec/graph_module.h"

namespace prunelab {

std::vector<at::Tensor> runInference(Graph& graph, const std::vector<at::Tensor>& inputs, const std::string& device) {
  // Validate shapes first: a mismatch is reported as "<node>: input has N channels...".
  std::vector<Shape> shapes;
  for (const auto& t : inputs) shapes.push_back(t.sizes().vec());
  inferShapes(graph, shapes);
  // Non-owning shared_ptr: the module lives only inside this call.
  GraphModule module(std::shared_ptr<Graph>(&graph, [](Graph*) {}));
  const torch::Device dev(device);
  module->to(dev);
  module->eval();
  torch::NoGradGuard noGrad;
  std::vector<at::Tensor> in;
  for (const auto& t : inputs) in.push_back(t.to(dev));
  std::vector<at::Tensor> out = module->forward(in);
  for (auto& t : out) t = t.to(at::kCPU);
  return out;
}

}  // namespace prunelab
