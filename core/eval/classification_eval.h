#pragma once
// Classification metrics over a loader: mean cross-entropy, top-1, top-5.

#include <cstdint>
#include <string>

#include "data/data_loader.h"
#include "graph/graph.h"

namespace prunelab {

class GraphModuleImpl;

struct ClassifyMetrics {
  double loss = 0.0;
  double top1 = 0.0;  // fraction in [0, 1]
  double top5 = 0.0;
  int64_t count = 0;
};

// Runs `module` in eval mode without autograd (restores its training flag afterwards).
ClassifyMetrics evaluateClassifier(GraphModuleImpl& module, DataLoader& loader, const std::string& device = "cpu",
                                   int epoch = 0);
// Convenience: builds a module over `graph` for the call.
ClassifyMetrics evaluateClassifier(Graph& graph, DataLoader& loader, const std::string& device = "cpu");

}  // namespace prunelab
