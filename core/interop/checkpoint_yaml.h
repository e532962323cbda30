#pragma once
// The `yaml` dict a written yolov5 / ultralytics checkpoint carries for its model.
//
// The stock trainers rebuild a checkpoint's model from that dict and copy the tensors whose
// shapes match (yolov5's train.py, ultralytics' get_model + load), so a pruned model is only
// trained on as pruned when its yaml states the pruned widths. This rewrites the dict to
// them (each layer's channel argument, `e` where a hidden width needs it, n as built,
// width and depth multiples 1.0), rebuilds both the rewritten and the original dict with
// PruneLab's YAML builder (the same rules as the home code) and counts the tensors whose
// shape each gives. The rewritten dict is kept when it gives every tensor (a plan made with
// PlanConstraints::fitWidths, prune --yaml-widths, always does); otherwise the file's own
// stays (full widths, from which readers cut down to the file's) and the count says what a
// rebuild would lose.
//
// Thread-safety: pure function of its arguments (the input dict is not modified).

#include <cstdint>
#include <string>

#include "graph/graph.h"
#include "io/pickle_reader.h"

namespace prunelab {

struct CheckpointYaml {
  PyRef dict;                     // the dict to write as the model's `yaml`
  bool rewritten = false;         // true: the pruned widths' dict (complete); false: the file's own
  int64_t tensors = 0;            // parameters and buffers of the model
  int64_t matching = 0;           // of them, those a rebuild from `dict` gives in the same shape
  std::string why;                // when not every tensor matches: what the YAML cannot state
};

// `original` is the model's `yaml` dict as read (nullptr or not a dict: nothing to do,
// `dict` stays null). `graph` must have been built from a YOLO YAML.
CheckpointYaml checkpointYaml(const Graph& graph, const PyRef& original);

// One line for the CLI and the workbench: "model yaml: states the pruned widths (348/348
// tensors load from it in train.py / YOLO().train())", or what cannot be stated.
std::string describeCheckpointYaml(const CheckpointYaml& y);

}  // namespace prunelab
