#pragma once
// YOLO detection as a TrainTask: mosaic/affine/HSV/flip batches, the v5 or v8 loss by
// the graph's head style, validation mAP. Fitness (best.plm) is ultralytics':
// 0.1 * mAP@0.5 + 0.9 * mAP@0.5:0.95. Distilled runs add the teacher's soft targets on
// the raw head outputs (train/distillation.h) and log train/kd_loss (KD, before W and
// the batch size).

#include <memory>

#include "data/detection/detection_augment_options.h"
#include "data/detection/detection_dataset.h"
#include "detect/detection_loss.h"
#include "detect/postprocess.h"
#include "train/train_task.h"

namespace prunelab {

struct DetectionTaskOptions {
  DetectAugmentOptions augment;   // imgsz lives here
  int closeMosaic = 10;           // last epochs without mosaic (ultralytics' close_mosaic)
  detect::LossGains gains;
  detect::PostprocessOptions post;
  int64_t valBatch = 32;
};

class DetectionTask : public TrainTask {
 public:
  DetectionTask(DetectionSplits data, DetectionTaskOptions options);
  std::string kind() const override { return "detect"; }
  BatchSourcePtr trainSource(uint64_t seed, int epochs) const override;
  BatchSourcePtr valSource(uint64_t seed) const override;
  int64_t valBatchSize(int64_t) const override { return m_opt.valBatch; }
  void prepare(Graph& graph) override;
  bool trainable(const Node& node, const NamedTensor& tensor) const override;
  void beginEpoch() override;
  at::Tensor loss(const std::vector<at::Tensor>& outputs, const Batch& batch, const DistillTargets* distill) override;
  void endEpoch(EpochStats& es) override;
  void validate(GraphModuleImpl& module, DataLoader& val, const std::string& device, int epoch,
                EpochStats& es) override;

 private:
  DetectionSplits m_data;
  DetectionTaskOptions m_opt;
  detect::YoloHead m_head;
  std::unique_ptr<detect::DetectionLoss> m_loss;
  double m_sum = 0, m_box = 0, m_mid = 0, m_cls = 0, m_kd = 0;
  bool m_distilled = false;
  int64_t m_batches = 0, m_images = 0;
};

}  // namespace prunelab
