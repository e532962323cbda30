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
  m_lossSum = m_ceSum = m_kdSum = 0;
  m_distilled = false;
  m_correct = m_seen = 0;
}

at::Tensor ClassificationTask::loss(const std::vector<at::Tensor>& outputs, const Batch& batch,
                                    const DistillTargets* distill) {
  const at::Tensor& out = outputs.at(0);
  const at::Tensor y = batch.labels.to(out.device());
  auto loss = torch::nn::functional::cross_entropy(
      out, y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(m_labelSmoothing));
  const int64_t n = y.size(0);
  if (distill) {
    // Hinton's mix (train/distillation.h): (1 - W) CE + W T^2 KL.
    const double w = distill->options.weight;
    const at::Tensor kd = classificationKdTerm(out, distill->teacher.at(0), distill->options.temperature);
    m_ceSum += loss.detach().item<double>() * double(n);
    m_kdSum += kd.detach().item<double>() * double(n);
    m_distilled = true;
    loss = loss * (1.0 - w) + kd * w;
  }
  m_lossSum += loss.detach().item<double>() * double(n);
  m_correct += out.detach().argmax(1).eq(y).sum().item<int64_t>();
  m_seen += n;
  return loss;
}

void ClassificationTask::endEpoch(EpochStats& es) {
  const double seen = double(std::max<int64_t>(m_seen, 1));
  es.trainLoss = m_lossSum / seen;
  es.trainTop1 = double(m_correct) / seen;
  if (m_distilled) es.taskMetrics = {{"train/ce_loss", m_ceSum / seen}, {"train/kd_loss", m_kdSum / seen}};
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
