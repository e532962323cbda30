// Ultralytics-style model YAML (models/yolo/yolo_builder.h), then shape inference and
// costs at a small input (the builder's own default is 640; 64 keeps executions fast and
// is still a multiple of every stride the shipped models use), under a small weight budget.

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "fuzz_targets.h"
#include "models/yolo/yolo_builder.h"

using namespace prunelab;

int fuzz::fuzz_model_yaml(const uint8_t* data, size_t size) {
  YoloOptions options;
  options.inputSize = 64;
  // 8M weights: the shipped n and s configs fit; larger ones are refused before they allocate,
  // which keeps executions fast enough for millions of them (the limit's own path is covered).
  options.maxWeights = int64_t{1} << 23;
  // The random draw of the weights was 40 % of an execution (about 70 a second under ASan)
  // and is not what is fuzzed here; zeros keep every allocation and shape.
  options.randomInit = false;
  Graph g;
  if (!fuzz::parsesOrNamesFile("fuzz-model.yaml",
                               [&] { g = buildYoloFromYaml(fuzz::bytesOf(data, size), "fuzz-model.yaml", options); }))
    return 0;
  fuzz::runOrError([&] {
    inferShapes(g, defaultInputShape(g));
    computeCost(g);
  });
  return 0;
}
