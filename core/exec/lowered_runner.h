#pragma once
// Runs composite nodes (OpSpec::lowered, e.g. the YOLO decode) as the primitive fragment
// their lowering pass returns (passes/lowering.h), so the executor computes exactly what
// the exporters write. Fragments are built once per node, input shapes and device, and
// kept: the grids of a detector at one image size are made once, not per batch.
// Thread affinity: the thread running the GraphModule that owns it.

#include <ATen/core/Tensor.h>

#include <map>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct OpContext;

class LoweredRunner {
 public:
  std::vector<at::Tensor> run(const Node& node, const std::vector<at::Tensor>& inputs, const OpContext& ctx);

 private:
  struct Fragment {
    std::vector<Shape> shapes;
    at::Device device{at::kCPU};
    Graph graph;  // the fragment, its constants on `device`
  };
  std::map<NodeId, Fragment> m_cache;
};

}  // namespace prunelab
