#include "train/detection_task.h"

#include <ATen/ATen.h>

#include "data/data_loader.h"
#include "data/detection/detection_batches.h"
#include "eval/detection_eval.h"
#include "graph/graph.h"
#include "util/error.h"

namespace prunelab {

DetectionTask::DetectionTask(DetectionSplits data, DetectionTaskOptions options)
    : m_data(std::move(data)), m_opt(std::move(options)) {
  if (!m_data.train || !m_data.val) throw Error("detection data", "missing a train or val split");
}

BatchSourcePtr DetectionTask::trainSource(uint64_t seed, int epochs) const {
  DetectAugmentOptions a = m_opt.augment;
  a.mosaicEpochs = std::max(0, epochs - m_opt.closeMosaic);
  return std::make_shared<DetectionBatches>(m_data.train, a, seed);
}

BatchSourcePtr DetectionTask::valSource(uint64_t seed) const {
  return std::make_shared<DetectionBatches>(m_data.val, m_opt.augment, seed);
}

void DetectionTask::prepare(Graph& graph) {
  m_head = detect::readYoloHead(graph);
  if (m_head.nc != m_data.train->numClasses())
    throw Error(graph.metadata().count("model") ? graph.metadata().at("model") : "model",
                "detects " + std::to_string(m_head.nc) + " classes, the data has " +
                    std::to_string(m_data.train->numClasses()) + " (build it with --nc " +
                    std::to_string(m_data.train->numClasses()) + ")");
  m_loss = detect::makeDetectionLoss(m_head, m_opt.gains);
}

// The decode step's tensors (DFL bins, anchors) are constants, never trained.
bool DetectionTask::trainable(const Node& node, const NamedTensor&) const { return node.op != OpKind::DetectDecode; }

void DetectionTask::beginEpoch() {
  m_sum = m_box = m_mid = m_cls = m_kd = 0;
  m_distilled = false;
  m_batches = m_images = 0;
}

at::Tensor DetectionTask::loss(const std::vector<at::Tensor>& outputs, const Batch& batch,
                               const DistillTargets* distill) {
  const std::vector<at::Tensor> raw(outputs.begin(), outputs.begin() + static_cast<long>(m_head.levels()));
  detect::LossParts p = (*m_loss)(raw, batch.targets, m_opt.augment.imgsz);
  const int64_t n = batch.images.size(0);
  if (distill) {
    // Beside the detection loss, on its scale (x batch size): train/distillation.h.
    const at::Tensor kd = detectionKdTerm(m_head, raw, distill->teacher, distill->options.temperature);
    m_kd += kd.detach().item<double>();
    m_distilled = true;
    p.total = p.total + kd * (distill->options.weight * double(n));
  }
  m_sum += p.total.detach().item<double>() / double(n);
  m_box += p.box;
  m_mid += p.objOrDfl;
  m_cls += p.cls;
  ++m_batches;
  m_images += n;
  return p.total;
}

void DetectionTask::endEpoch(EpochStats& es) {
  const double b = double(std::max<int64_t>(m_batches, 1));
  es.trainLoss = m_sum / b;
  const std::string mid = m_loss ? m_loss->partName() : "obj";
  es.taskMetrics = {{"train/box_loss", m_box / b}, {"train/" + mid + "_loss", m_mid / b}, {"train/cls_loss", m_cls / b}};
  if (m_distilled) es.taskMetrics.emplace_back("train/kd_loss", m_kd / b);
}

void DetectionTask::validate(GraphModuleImpl& module, DataLoader& val, const std::string& device, int epoch,
                             EpochStats& es) {
  const DetectEvalResult r =
      evaluateDetector(module, m_head, m_loss.get(), val, m_opt.augment.imgsz, device, m_opt.post, epoch);
  const std::string mid = m_loss->partName();
  es.valLoss = r.loss;
  es.taskMetrics.insert(es.taskMetrics.end(), {{"val/box_loss", r.box},
                                               {"val/" + mid + "_loss", r.objOrDfl},
                                               {"val/cls_loss", r.cls},
                                               {"metrics/precision", r.metrics.precision},
                                               {"metrics/recall", r.metrics.recall},
                                               {"metrics/mAP50", r.metrics.map50},
                                               {"metrics/mAP50-95", r.metrics.map50_95}});
  es.fitness = 0.1 * r.metrics.map50 + 0.9 * r.metrics.map50_95;
}

}  // namespace prunelab
