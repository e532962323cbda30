#include "session/calibration.h"

#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "data/data_loader.h"
#include "data/detection/detection_batches.h"
#include "detect/detection_loss.h"
#include "detect/yolo_head.h"
#include "data/transforms.h"
#include "graph/input_shape.h"
#include "util/error.h"

namespace prunelab {

namespace {

std::string describe(int64_t batches, int64_t size, const std::string& what) {
  return std::to_string(batches) + " x " + std::to_string(size) + " " + what;
}

std::string detectionCalibration(const OpenedData& data, const Graph& graph, const Shape& input,
                                 const CalibrationOptions& o, ImportanceOptions& io) {
  const detect::YoloHead head = detect::readYoloHead(graph);
  if (head.nc != data.numClasses())
    throw Error(data.spec.spec, "has " + std::to_string(data.numClasses()) + " classes, the model detects " +
                                    std::to_string(head.nc));
  DetectAugmentOptions a;
  a.imgsz = static_cast<int>(input.at(1));
  LoaderOptions lo;
  lo.batchSize = o.batchSize;
  lo.shuffle = true;
  lo.augment = false;
  lo.seed = o.seed;
  DataLoader loader(std::make_shared<DetectionBatches>(data.det.val, a, lo.seed), lo);
  loader.startEpoch(0);
  auto targets = std::make_shared<std::vector<at::Tensor>>();
  Batch b;
  for (int64_t i = 0; i < o.batches && loader.next(b); ++i) {
    io.calibration.push_back(b.images);
    targets->push_back(b.targets);
    if (o.progress) o.progress(i + 1, o.batches, b.images.size(0));
  }
  std::shared_ptr<const detect::DetectionLoss> loss = detect::makeDetectionLoss(head);
  const int64_t imgsz = input.at(1);
  const size_t levels = head.levels();
  io.loss = [loss, targets, imgsz, levels](const std::vector<at::Tensor>& outs, size_t batch) {
    const std::vector<at::Tensor> raw(outs.begin(), outs.begin() + static_cast<long>(levels));
    return (*loss)(raw, targets->at(batch), imgsz).total;
  };
  return describe(static_cast<int64_t>(targets->size()), o.batchSize, "validation images of " + data.spec.spec);
}

}  // namespace

std::string loadCalibration(const OpenedData* data, const Graph& graph, const Shape& input,
                            const CalibrationOptions& o, ImportanceOptions& io) {
  if (o.batches <= 0) throw Error("--calib-batches", "must be at least 1");
  if (o.batchSize <= 0) throw Error("--calib-batch", "must be at least 1");
  if (input.size() != 3) throw Error("calibration", "needs a C x H x W input shape");
  if (!data) {
    at::manual_seed(o.seed);
    for (int64_t b = 0; b < o.batches; ++b) io.calibration.push_back(at::randn({o.batchSize, input[0], input[1], input[2]}));
    return describe(o.batches, o.batchSize, "random inputs");
  }
  if (data->task == TaskKind::Detect) return detectionCalibration(*data, graph, input, o, io);
  TransformOptions trainT, evalT;
  classifyTransforms(*data, input[0], trainT, evalT);
  evalT.resize = static_cast<int>(input[1]);
  LoaderOptions lo;
  lo.batchSize = o.batchSize;
  lo.shuffle = true;
  lo.augment = false;
  lo.seed = o.seed;
  lo.transform = evalT;
  DataLoader loader(data->cls.train, lo);
  loader.startEpoch(0);
  Batch b;
  int64_t n = 0;
  for (; n < o.batches && loader.next(b); ++n) {
    io.calibration.push_back(b.images);
    io.labels.push_back(b.labels);
    if (o.progress) o.progress(n + 1, o.batches, b.images.size(0));
  }
  return describe(n, o.batchSize, "training images of " + data->spec.spec);
}

}  // namespace prunelab
