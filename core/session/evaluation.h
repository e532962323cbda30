#pragma once
// Evaluation of a model on the open data's validation split: the one path behind
// `prunelab-cli eval`, the workbench's Evaluate and Compare, and Session::validate. It
// builds the loader (validation batches, no augmentation), runs the task's evaluator and
// gathers what the front ends print: top-1/top-5/loss, or mAP with per-class APs.
//
// Threads: runs on the caller's thread; `progress` and the label writer are called there.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eval/classification_eval.h"
#include "eval/detection_eval.h"
#include "graph/graph.h"
#include "session/dataset_spec.h"
#include "session/task_factory.h"
#include "train/bn_stats.h"

namespace prunelab {

struct EvalRequest {
  int64_t batch = 0;        // 0: the task's validation batch (kValBatchClassify / kValBatchDetect)
  int workers = -1;         // data loader threads; < 0: LoaderOptions' default
  std::string device = "cpu";
  TaskSettings task;        // detection input size, NMS thresholds; label smoothing is unused
  // Batches taken so far, the split's batch count, the batch's images (progress lines).
  std::function<void(size_t done, size_t total, int64_t images)> progress;
  // Detection: write each validation image's detections, in its own pixels, to
  // saveTxtDir/<image stem>.txt as YOLO labels (with the score after each box when
  // saveConf), as `predict --save-txt` does. Classification data with saveTxtDir is an error.
  std::string saveTxtDir;
  bool saveConf = false;
};

struct EvalReport {
  TaskKind task = TaskKind::Classify;
  std::string split;                    // the validation split's description
  ClassifyMetrics classify;             // classification
  DetectEvalResult detect;              // detection
  std::vector<std::string> classNames;  // detection: the data's, one per AP
  GammaStats gamma;                     // of the evaluated model's BN scales
  // The metric the workbench shows and validate() returns: "top1" or "mAP50-95".
  Metric headline() const;
};

// The default validation batch of a task (what EvalRequest::batch 0 means).
int64_t evalBatch(TaskKind task);

// Evaluates `graph` (shapes need not be inferred) on `data`'s validation split. Throws
// prunelab::Error when the model does not fit the data (a detector on classification data...).
EvalReport evaluateOnData(const OpenedData& data, const std::shared_ptr<Graph>& graph, const EvalRequest& request = {});

}  // namespace prunelab
