#pragma once
// Classification as a TrainTask: cross-entropy (label smoothing), top-1/top-5; distilled
// runs mix in the teacher's softened logits (train/distillation.h) and log
// train/ce_loss and train/kd_loss beside train/loss (the mixed loss that was optimised).

#include "data/dataset.h"
#include "data/transforms.h"
#include "train/train_task.h"

namespace prunelab {

class ClassificationTask : public TrainTask {
 public:
  ClassificationTask(DatasetSplits data, TransformOptions train, TransformOptions eval, double labelSmoothing);
  std::string kind() const override { return "classify"; }
  BatchSourcePtr trainSource(uint64_t seed, int epochs) const override;
  BatchSourcePtr valSource(uint64_t seed) const override;
  int64_t valBatchSize(int64_t trainBatch) const override { return std::max<int64_t>(trainBatch, kValBatchClassify); }
  void prepare(Graph& graph) override;
  void beginEpoch() override;
  at::Tensor loss(const std::vector<at::Tensor>& outputs, const Batch& batch, const DistillTargets* distill) override;
  void endEpoch(EpochStats& es) override;
  void validate(GraphModuleImpl& module, DataLoader& val, const std::string& device, int epoch,
                EpochStats& es) override;

 private:
  DatasetSplits m_data;
  TransformOptions m_train, m_eval;
  double m_labelSmoothing;
  double m_lossSum = 0, m_ceSum = 0, m_kdSum = 0;
  bool m_distilled = false;
  int64_t m_correct = 0, m_seen = 0;
};

}  // namespace prunelab
