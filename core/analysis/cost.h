#pragma once
// Parameter, MAC and size accounting. Needs inferShapes() first.
//
// Two MAC conventions, each the one its users compare against (ops/op_table.h):
//   TorchInfo  torchinfo's "Mult-Adds": Conv and Linear = (weight + bias elements) x output
//              positions, BatchNorm = its parameter count, other ops 0 (ResNet-18 at
//              3x32x32: 37.03M, the seed tables). Default for classifiers.
//   FoldedBn   the deployed model, BN folded into its conv: the same conv/linear count plus
//              one multiply-add per BN output element (the folded bias). Matches the
//              published ultralytics GFLOPs (yolov5n 4.5, yolov5s 16.5, yolov8n 8.7-8.9,
//              yolo11n 6.5-6.6). Default for detectors (task "detect").
// Per sample. GFLOPs = 2 x MACs.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "ops/op_table.h"

namespace prunelab {

struct LayerCost {
  NodeId node = -1;
  std::string name;
  std::string op;
  Shape inputShape;   // first input
  Shape outputShape;  // first output
  int64_t params = 0;
  int64_t macs = 0;
};

struct GraphCost {
  std::vector<LayerCost> layers;  // every node, in graph order
  int64_t params = 0;             // trainable parameters
  int64_t buffers = 0;            // buffer elements (BN running statistics...)
  int64_t macs = 0;
  int64_t sizeBytes = 0;          // parameters + buffers as stored (float32 = 4 bytes)
  MacsConvention convention = MacsConvention::TorchInfo;
};

// The convention users of this model compare against: FoldedBn for detectors, else TorchInfo.
MacsConvention defaultConvention(const Graph& graph);
const char* conventionName(MacsConvention c);  // "torchinfo" | "folded-bn"

GraphCost computeCost(const Graph& graph);  // with defaultConvention(graph)
GraphCost computeCost(const Graph& graph, MacsConvention convention);

// MACs per element of each tensor of `node` (0 where the op has no MAC rule).
std::vector<int64_t> macsPerElement(const Graph& graph, const Node& node, MacsConvention convention);

}  // namespace prunelab
