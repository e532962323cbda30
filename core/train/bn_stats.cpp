#include "train/bn_stats.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "ops/op_table.h"

namespace prunelab {

GammaSnapshot snapshotGammas(const Graph& graph, int64_t step, double epoch) {
  GammaSnapshot s;
  s.step = step;
  s.epoch = epoch;
  for (const Node& n : graph.nodes()) {
    if (!hasNormScale(n)) continue;
    const at::Tensor g = n.tensor(normScale(n.op)).detach().abs().to(at::kCPU, at::kFloat).contiguous();
    s.layers.push_back({n.name, std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + g.numel())});
  }
  return s;
}

GammaStats gammaStats(const GammaSnapshot& snapshot) {
  std::vector<float> all;
  for (const auto& l : snapshot.layers) all.insert(all.end(), l.absGamma.begin(), l.absGamma.end());
  GammaStats st;
  st.count = static_cast<int64_t>(all.size());
  if (all.empty()) return st;
  std::sort(all.begin(), all.end());
  double sum = 0;
  int64_t below = 0;
  for (float v : all) {
    sum += v;
    below += v < 0.01f;
  }
  auto pct = [&](double q) { return static_cast<double>(all[static_cast<size_t>(q * double(all.size() - 1) + 0.5)]); };
  st.absMean = sum / double(all.size());
  st.fracBelow001 = double(below) / double(all.size());
  st.p10 = pct(0.10);
  st.p25 = pct(0.25);
  st.p50 = pct(0.50);
  st.p75 = pct(0.75);
  st.p90 = pct(0.90);
  st.maxAbs = all.back();
  return st;
}

}  // namespace prunelab
