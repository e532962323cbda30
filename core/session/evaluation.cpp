#include "session/evaluation.h"

#include <filesystem>

#include "data/data_loader.h"
#include "data/detection/detection_augment.h"
#include "data/detection/detection_batches.h"
#include "detect/yolo_head.h"
#include "eval/detection_files.h"
#include "eval/detection_predictor.h"
#include "exec/graph_module.h"
#include "graph/input_shape.h"
#include "train/train_task.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab {

namespace {

LoaderOptions validationLoader(const EvalRequest& request, TaskKind task) {
  LoaderOptions lo;
  lo.batchSize = request.batch > 0 ? request.batch : evalBatch(task);
  lo.shuffle = false;
  lo.augment = false;
  if (request.workers >= 0) lo.workers = request.workers;
  return lo;
}

// Writes each image's detections as YOLO label lines in the image's own pixels.
DetectionSink labelWriter(const DetectionDataset& val, int64_t imgsz, const EvalRequest& request) {
  if (request.saveTxtDir.empty()) return {};
  createDirectories(request.saveTxtDir);
  return [&val, imgsz, dir = request.saveTxtDir, withScore = request.saveConf](size_t index,
                                                                                const std::vector<Detection>& found) {
    const ImageU8 image = val.image(index);  // for its size: detections return to its pixels
    const LetterboxGeometry g = letterboxGeometry(image.width, image.height, static_cast<int>(imgsz));
    const std::filesystem::path path =
        std::filesystem::path(dir) / (std::filesystem::path(val.imagePath(index)).stem().string() + ".txt");
    writeYoloLabels(path.string(), toImagePixels(found, g), image.width, image.height, withScore);
  };
}

void evaluateDetection(const OpenedData& data, const std::shared_ptr<Graph>& graph, const EvalRequest& request,
                       EvalReport& report) {
  const DetectionSplits& det = data.det;
  // The detection options of training with this batch (NMS, input size); the recipe's
  // training batch does not matter here, only the evaluation batch does.
  const DetectionTaskOptions to = detectionTaskOptions(request.task, *graph, evalBatch(TaskKind::Detect));
  const detect::YoloHead head = detect::readYoloHead(*graph);
  DataLoader loader(std::make_shared<DetectionBatches>(det.val, to.augment, 0), validationLoader(request, TaskKind::Detect));
  if (request.progress) loader.setProgress(request.progress);
  GraphModule module(graph);
  module->to(torch::Device(request.device));
  const auto loss = detect::makeDetectionLoss(head, to.gains);
  report.detect = evaluateDetector(*module, head, loss.get(), loader, to.augment.imgsz, request.device, to.post, 0,
                                   labelWriter(*det.val, to.augment.imgsz, request));
  report.classNames = det.val->classNames();
  report.split = det.val->description();
}

void evaluateClassification(const OpenedData& data, const std::shared_ptr<Graph>& graph, const EvalRequest& request,
                            EvalReport& report) {
  if (!request.saveTxtDir.empty()) throw Error("--save-txt", "writes detections: the data is not detection data");
  TransformOptions trainT, evalT;
  classifyTransforms(data, defaultInputShape(*graph).at(0), trainT, evalT);
  LoaderOptions lo = validationLoader(request, TaskKind::Classify);
  lo.transform = evalT;
  DataLoader loader(data.cls.val, lo);
  if (request.progress) loader.setProgress(request.progress);
  report.classify = evaluateClassifier(*graph, loader, request.device);
  report.split = data.cls.val->description();
}

}  // namespace

int64_t evalBatch(TaskKind task) { return task == TaskKind::Detect ? kValBatchDetect : kValBatchClassify; }

Metric EvalReport::headline() const {
  if (task == TaskKind::Classify) return {"top1", classify.top1};
  return {"mAP50-95", detect.metrics.map50_95};
}

EvalReport evaluateOnData(const OpenedData& data, const std::shared_ptr<Graph>& graph, const EvalRequest& request) {
  checkModelFitsData(data, *graph);  // the same check as training's
  EvalReport report;
  report.task = data.task;
  if (data.task == TaskKind::Detect)
    evaluateDetection(data, graph, request, report);
  else
    evaluateClassification(data, graph, request, report);
  report.gamma = gammaStats(snapshotGammas(*graph));
  return report;
}

}  // namespace prunelab
