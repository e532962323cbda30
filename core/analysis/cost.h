#pragma once
// Parameter, MAC and size accounting. Needs inferShapes() first.
//
// MACs follow torchinfo's "Mult-Adds" (the numbers users compare against, e.g. 37.03M
// for ResNet-18 at 3x32x32): Conv = (weight + bias elements) x output positions;
// Linear = (weight + bias elements) x rows; BatchNorm = its parameter count; other ops
// (activations, pooling, data movement) 0. Per sample. GFLOPs = 2 x MACs.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

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
};

GraphCost computeCost(const Graph& graph);

}  // namespace prunelab
