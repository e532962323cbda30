#pragma once
// Pruned YOLO widths that the model's own YAML can express.
//
// yolov5's train.py (`Model(cfg or ckpt['model'].yaml)`) and ultralytics' trainer
// (`get_model(cfg=model.yaml)`) rebuild a checkpoint's model from its `yaml` dict and copy
// only the tensors whose shapes match. A pruned model survives that only when every
// width is one the YAML can state:
//   - a module's output width is its channel argument after make_divisible(c2, 8): a
//     multiple of 8 (written with width_multiple 1.0);
//   - C3/C2f/C3k2 hidden widths are int(c2 * e), e being a per-layer argument, and every
//     bottleneck inside shares them (C3k2's bottlenecks and C3k blocks keep int(c * 0.5));
//   - SPPF's hidden width is its input width // 2; ultralytics' Detect hidden widths are
//     max(16, c0 // 4, 64) and max(c0, min(nc, 100)) of its first input's width c0;
//   - C2PSA's widths follow its attention heads (c // 64): it and its input stay whole.
// yoloYamlWidthFit() makes a plan keep to these rules (PlanConstraints::fitWidths);
// yoloLayerWidths() reads the arguments to write off a pruned model.
//
// Thread-safety: pure functions; the returned fit holds only parsed layer data.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/planner.h"

namespace prunelab {

// Metadata key: the YAML text a YOLO graph was built from (kept in .plm and ONNX metadata).
inline constexpr const char* kYoloYamlKey = "yolo.yaml";

// One layer of the YAML: index i is scope "model.i".
struct YoloYamlLayer {
  int index = 0;
  std::string module;  // "Conv", "C3", "C2f", "C3k2", "SPPF", "C2PSA", "Detect", ...
  std::vector<int> from;
};

// The layers of the YAML `graph` was built from; empty when it was not built from one.
std::vector<YoloYamlLayer> yoloYamlLayers(const Graph& graph);

// The plan fit for PlanConstraints::fitWidths: after any planner, every group's kept count
// is moved to the nearest width the YAML expresses (module outputs rounded up to a multiple
// of 8; the hidden widths of a block set to the rounded-up mean of what the plan kept in
// them, or to what the home code derives from their inputs), keeping the highest-scored
// channels. Throws prunelab::Error when `graph` was not built from a YOLO YAML.
PlanWidthFit yoloYamlWidthFit(const Graph& graph);

// The arguments a layer of the YAML takes to describe `graph`'s (pruned) widths.
struct YoloLayerWidths {
  int index = 0;
  std::string module;
  int64_t c2 = -1;       // output channels (-1: the layer has no channel argument)
  int64_t hidden = -1;   // C3: cv1's width; C2f/C3k2/C2PSA: half of cv1's (the `c`)
  int64_t repeats = 1;   // bottlenecks/blocks built (the YAML's n at depth 1.0)
  bool c3k = false;      // C3k2: the block holds C3k modules
};
std::vector<YoloLayerWidths> yoloLayerWidths(const Graph& graph);

// The smallest double e with int(c2 * e) == hidden in IEEE arithmetic (Python's int() of a
// float product), which is how C3/C2f compute their hidden width from an `e` argument.
double expansionFor(int64_t hidden, int64_t c2);

}  // namespace prunelab
