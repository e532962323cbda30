#include "eval/classification_eval.h"

#include <torch/torch.h>

#include "exec/graph_module.h"

namespace prunelab {

ClassifyMetrics evaluateClassifier(GraphModuleImpl& module, DataLoader& loader, const std::string& device, int epoch) {
  const bool wasTraining = module.is_training();
  module.eval();
  torch::NoGradGuard noGrad;
  const torch::Device dev(device);
  double lossSum = 0.0;
  int64_t correct1 = 0, correct5 = 0, count = 0;
  loader.startEpoch(epoch);
  Batch batch;
  while (loader.next(batch)) {
    const auto x = batch.images.to(dev);
    const auto y = batch.labels.to(dev);
    const auto out = module.forward(x);
    lossSum += torch::nn::functional::cross_entropy(out, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                   .item<double>();
    const int64_t k = std::min<int64_t>(5, out.size(1));
    const auto topk = std::get<1>(out.topk(k, 1));
    const auto hits = topk.eq(y.unsqueeze(1));
    correct1 += hits.select(1, 0).sum().item<int64_t>();
    correct5 += hits.any(1).sum().item<int64_t>();
    count += y.size(0);
  }
  if (wasTraining) module.train();
  ClassifyMetrics m;
  m.count = count;
  if (count) {
    m.loss = lossSum / double(count);
    m.top1 = double(correct1) / double(count);
    m.top5 = double(correct5) / double(count);
  }
  return m;
}

ClassifyMetrics evaluateClassifier(Graph& graph, DataLoader& loader, const std::string& device) {
  GraphModule module(std::shared_ptr<Graph>(&graph, [](Graph*) {}));
  module->to(torch::Device(device));
  return evaluateClassifier(*module, loader, device);
}

}  // namespace prunelab
