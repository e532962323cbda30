#include "eval/detection_eval.h"

#include <torch/torch.h>

#include <chrono>

#include "exec/graph_module.h"

namespace prunelab {

DetectEvalResult evaluateDetector(GraphModuleImpl& module, const detect::YoloHead& head,
                                  const detect::DetectionLoss* loss, DataLoader& loader, int64_t imgsz,
                                  const std::string& device, const detect::PostprocessOptions& post, int epoch,
                                  const DetectionSink& sink) {
  const auto started = std::chrono::steady_clock::now();
  const bool wasTraining = module.is_training();
  module.eval();
  torch::NoGradGuard noGrad;
  const torch::Device dev(device);
  DetectionEvaluator evaluator(static_cast<int>(head.nc));
  DetectEvalResult r;
  int64_t batches = 0;
  loader.startEpoch(epoch);
  Batch batch;
  while (loader.next(batch)) {
    const auto outs = module.forward(std::vector<at::Tensor>{batch.images.to(dev)});
    const std::vector<at::Tensor> raw(outs.begin(), outs.begin() + static_cast<long>(head.levels()));
    if (loss) {
      const detect::LossParts parts = (*loss)(raw, batch.targets, imgsz);
      r.loss += parts.total.item<double>() / double(batch.images.size(0));
      r.box += parts.box;
      r.objOrDfl += parts.objOrDfl;
      r.cls += parts.cls;
    }
    ++batches;
    const auto dets = detect::postprocess(outs.back(), head, post);
    // Ground truth of each image from the batch targets (cx, cy, w, h pixels).
    const int64_t n = batch.images.size(0);
    std::vector<std::vector<GroundTruth>> gts(static_cast<size_t>(n));
    const at::Tensor t = batch.targets.contiguous();
    const float* tp = t.data_ptr<float>();
    for (int64_t i = 0; i < t.size(0); ++i) {
      const float* row = tp + 6 * i;
      gts[static_cast<size_t>(row[0])].push_back(
          {{row[2] - row[4] / 2, row[3] - row[5] / 2, row[2] + row[4] / 2, row[3] + row[5] / 2}, int(row[1])});
    }
    for (int64_t i = 0; i < n; ++i) {
      evaluator.addImage(dets[static_cast<size_t>(i)], gts[static_cast<size_t>(i)]);
      if (sink) sink(batch.indices.at(static_cast<size_t>(i)), dets[static_cast<size_t>(i)]);
    }
    r.images += n;
  }
  if (wasTraining) module.train();
  if (batches) {
    r.loss /= double(batches);
    r.box /= double(batches);
    r.objOrDfl /= double(batches);
    r.cls /= double(batches);
  }
  r.metrics = evaluator.compute();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

}  // namespace prunelab
