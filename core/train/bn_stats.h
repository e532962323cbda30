#pragma once
// BatchNorm-gamma statistics: the signal of Network Slimming. Snapshots are plain
// values (no tensors) so they can cross to the GUI thread.

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct GammaLayer {
  std::string name;           // BN node name
  std::vector<float> absGamma;
};

struct GammaSnapshot {
  int64_t step = 0;
  double epoch = 0.0;  // fractional
  std::vector<GammaLayer> layers;
};

struct GammaStats {
  double absMean = 0.0;
  double fracBelow001 = 0.0;  // fraction of |gamma| < 0.01
  double p10 = 0.0, p25 = 0.0, p50 = 0.0, p75 = 0.0, p90 = 0.0;
  double maxAbs = 0.0;
  int64_t count = 0;
};

GammaSnapshot snapshotGammas(const Graph& graph, int64_t step = 0, double epoch = 0.0);
GammaStats gammaStats(const GammaSnapshot& snapshot);

}  // namespace prunelab
