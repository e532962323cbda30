#include "train/classification_task.h"

#include <torch/torch.h>

#include "data/data_loader.h"
#include "eval/classification_eval.h"
#include "graph/graph.h"

namespace prunelab {

ClassificationTask::ClassificationTask(DatasetSplits data, TransformOptions train, TransformOptions eval,
                                       double labelSmoothing)
    : m_data(std::move(data)), m_train(std::move(train)), m_eval(std::move(eval)), m_labelSmoothing(labelSmoothing) {}

BatchSourcePtr ClassificationTask::trainSource(uint64_t seed, int) const {
  return std::make_shared<ClassificationBatches>(m_data.train, m_train, seed);
}

BatchSourcePtr ClassificationTask::valSource(uint64_t seed) const {
  return std::make_shared<ClassificationBatches>(m_data.val, m_eval, seed);
}

void ClassificationTask::prepare(Graph&) {}

void ClassificationTask::beginEpoch() {
  m_lossSum = 0;
  m_correct = m_seen = 0;
}

at::Tensor ClassificationTask::loss(const std::vector<at::Tensor>& outputs, const Batch& batch) {
  const at::Tensor& out = outputs.at(0);
  const at::Tensor y = batch.labels.to(out.device());
  auto loss = torch::nn::functional::cross_entropy(
      out, y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(m_labelSmoothing));
  const int64_t n = y.size(0);
  m_lossSum += loss.detach().item<double>() * double(n);
  m_correct += out.detach().argmax(1).eq(y).sum().item<int64_t>();
  m_seen += n;
  return loss;
}

void ClassificationTask::endEpoch(EpochStats& es) {
  es.trainLoss = m_seen ? m_lossSum / double(m_seen) : 0.0;
  es.trainTop1 = m_seen ? double(m_correct) / double(m_seen) : 0.0;
}

void ClassificationTask::validate(GraphModuleImpl& module, DataLoader& val, const std::string& device, int epoch,
                                  EpochStats& es) {
  const ClassifyMetrics m = evaluateClassifier(module, val, device, epoch);
  es.valLoss = m.loss;
  es.valTop1 = m.top1;
  es.valTop5 = m.top5;
  es.fitness = m.top1;
}

}  // namespace prunelab
