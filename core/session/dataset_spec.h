#pragma once
// What "--data" names and what a session has open: a classification dataset
// (fashion-mnist, cifar10, an image-folder DIR) or YOLO detection data (a data.yaml, or a
// folder holding one), with optional seeded subsets.

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/detection/detection_dataset.h"
#include "data/transforms.h"
#include "session/train_recipe.h"

namespace prunelab {

struct DataSpec {
  std::string spec = "fashion-mnist";
  std::string task;        // "", "classify" or "detect"; "" = by the data (data.yaml => detect)
  int64_t trainLimit = 0;  // > 0: a seeded subset of that many training images
  int64_t valLimit = 0;
  uint64_t seed = 0;       // subsets use seed + 1 (train) and seed + 2 (val)
  ClassifyInputOptions input;  // classification: resize and normalisation (defaults in data/transforms.h)
};

// The prunelab-cli options that open `spec` again ("--data", ..., "--seed", ...): how the
// workbench starts data-parallel workers on the data it has open.
std::vector<std::string> dataSpecArguments(const DataSpec& spec);

// A YOLO data.yaml (or a directory holding one)?
bool isYoloData(const std::string& spec);

struct OpenedData {
  DataSpec spec;
  TaskKind task = TaskKind::Classify;
  DatasetSplits cls;    // classification
  DetectionSplits det;  // detection
  int64_t numClasses() const;
  int64_t channels() const;  // image channels (3 for detection)
  std::string description() const;  // "<spec>: N train / M val images, K classes"
};

// Throws prunelab::Error naming the spec (or option) on failure.
OpenedData openData(const DataSpec& spec);

// What the user should see after opening detection data: per split, up to `maxWarnings`
// "FILE:LINE: problem (image skipped)" lines, then its summary (LabelCheck::summary).
// Empty for classification data.
std::vector<std::string> dataReport(const OpenedData& data, size_t maxWarnings = 20);

// The classification transforms for `data` and a model taking `modelChannels` channels,
// under the spec's ClassifyInputOptions: the one place the CLI and the workbench get them.
void classifyTransforms(const OpenedData& data, int64_t modelChannels, TransformOptions& trainT,
                        TransformOptions& evalT);

}  // namespace prunelab
