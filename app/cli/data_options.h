#pragma once
// Options and set-up shared by the CLI commands that handle detectors
// (train, eval, prune --calib): YOLO data, image size, augmentation, NMS thresholds.

#include <memory>
#include <string>

#include "cli/arg_parser.h"
#include "data/detection/detection_dataset.h"
#include "graph/graph.h"
#include "train/detection_task.h"

namespace prunelab::cli {

void addDetectionOptions(ArgParser& p);

// A YOLO data.yaml (or a directory holding one)?
bool isYoloData(const std::string& spec);

// --task detect|classify, else decided by the data (data.yaml => detect).
bool wantsDetection(const ArgParser& p);

DetectionSplits openDetectionData(const ArgParser& p);

// Image size: --imgsz, else the model's recorded input size, else 640.
int64_t detectionImageSize(const ArgParser& p, const Graph& graph);

// Throws when `graph` is not a YOLO detector.
DetectionTaskOptions detectionTaskOptions(const ArgParser& p, const Graph& graph);

}  // namespace prunelab::cli
