#pragma once
// Builds the TrainTask for a model and the open data, with one set of defaults for the
// CLI and the workbench, and validates a model with it.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "graph/graph.h"
#include "session/dataset_spec.h"
#include "train/detection_task.h"
#include "train/train_task.h"

namespace prunelab {

// Task settings a caller may override (the CLI's --imgsz, --mosaic, ...).
struct TaskSettings {
  int64_t imgsz = 0;          // detection input size; 0 = the model's recorded input, else 640
  double mosaic = 1.0;        // detection: mosaic probability
  int closeMosaic = 10;       // detection: last N epochs without mosaic
  double confidence = 0.001;  // detection: confidence threshold for mAP
  double iou = -1.0;          // detection: NMS IoU; < 0 = 0.7 (v5 heads 0.6)
  double labelSmoothing = 0;  // classification
};

// Throws prunelab::Error naming the data when `graph` does not fit it (a detector needs
// YOLO data, a classifier anything else).
void checkModelFitsData(const OpenedData& data, const Graph& graph);

// The task for `graph` on `data` (checked with checkModelFitsData). `trainBatch` sets the
// detection validation batch (max(trainBatch, kValBatchDetect)).
std::shared_ptr<TrainTask> makeTrainTask(const OpenedData& data, const Graph& graph, const TaskSettings& settings,
                                         int64_t trainBatch);

// Detection input size under `settings` for `graph`.
int64_t detectionImageSize(const TaskSettings& settings, const Graph& graph);

// The detection task's options (augmentation, NMS) for `graph` (a YOLO detector).
DetectionTaskOptions detectionTaskOptions(const TaskSettings& settings, const Graph& graph, int64_t trainBatch);

struct Metric {
  std::string name;  // "top1" | "mAP50-95" | "fitness"
  double value = 0.0;
};

// Validates `graph` on the task's validation data (on `device`), or on `val` when given (the
// same data's batches kept from an earlier call: data/cached_batch_source.h).
Metric validateModel(const std::shared_ptr<Graph>& graph, TrainTask& task, const std::string& device = "cpu",
                     BatchSourcePtr val = nullptr);

}  // namespace prunelab
