#include "session/task_factory.h"

#include <algorithm>

#include "data/data_loader.h"
#include "detect/yolo_head.h"
#include "exec/graph_module.h"
#include "models/model_loader.h"
#include "train/classification_task.h"
#include "train/detection_task.h"
#include "data/transforms.h"
#include "graph/input_shape.h"
#include "util/error.h"

namespace prunelab {

int64_t detectionImageSize(const TaskSettings& settings, const Graph& graph) {
  if (settings.imgsz > 0) return settings.imgsz;
  const Shape s = defaultInputShape(graph);
  return s.size() == 3 ? s[1] : 640;
}

void checkModelFitsData(const OpenedData& data, const Graph& graph) {
  const bool detector = detect::isDetector(graph);
  if ((data.task == TaskKind::Detect) != detector)
    throw Error(data.spec.spec, detector ? "is not YOLO data (a detector needs a data.yaml)"
                                         : "is YOLO detection data; the model is not a detector");
}

std::shared_ptr<TrainTask> makeTrainTask(const OpenedData& data, const Graph& graph, const TaskSettings& settings,
                                         int64_t trainBatch) {
  checkModelFitsData(data, graph);
  if (data.task == TaskKind::Classify) {
    TransformOptions trainT, evalT;
    classifyTransforms(data, defaultInputShape(graph).at(0), trainT, evalT);
    return std::make_shared<ClassificationTask>(data.cls, trainT, evalT, settings.labelSmoothing);
  }
  return std::make_shared<DetectionTask>(data.det, detectionTaskOptions(settings, graph, trainBatch));
}

DetectionTaskOptions detectionTaskOptions(const TaskSettings& settings, const Graph& graph, int64_t trainBatch) {
  const bool v5 = detect::readYoloHead(graph).style == "v5";
  DetectionTaskOptions o;
  o.augment.imgsz = static_cast<int>(detectionImageSize(settings, graph));
  o.augment.mosaic = settings.mosaic;
  o.closeMosaic = settings.closeMosaic;
  o.post.confidence = static_cast<float>(settings.confidence);
  o.post.iou = static_cast<float>(settings.iou >= 0 ? settings.iou : v5 ? 0.6 : 0.7);
  o.valBatch = std::max<int64_t>(trainBatch, kValBatchDetect);
  return o;
}

Metric validateModel(const std::shared_ptr<Graph>& graph, TrainTask& task, const std::string& device,
                     BatchSourcePtr source) {
  task.prepare(*graph);  // a detection task reads the head (classes, strides) from the graph it validates
  GraphModule module(graph);
  LoaderOptions lo;
  lo.shuffle = false;
  lo.augment = false;
  lo.batchSize = task.valBatchSize(128);
  DataLoader val(source ? std::move(source) : task.valSource(0), lo);
  EpochStats es;
  task.validate(*module, val, device, 0, es);
  if (task.kind() == "classify") return {"top1", es.valTop1};
  for (const auto& [name, v] : es.taskMetrics)
    if (name == "metrics/mAP50-95(B)" || name == "metrics/mAP50-95") return {"mAP50-95", v};
  return {"fitness", es.fitness};
}

}  // namespace prunelab
