#include "exec/latency.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "exec/inference.h"
#include "models/model_loader.h"

namespace prunelab {

double measureLatencyMs(Graph& graph, int iters) {
  Shape in{1};
  const Shape chw = defaultInputShape(graph);
  in.insert(in.end(), chw.begin(), chw.end());
  const at::Tensor x = at::randn(in);
  for (int i = 0; i < 3; ++i) runInference(graph, {x});
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, iters); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    runInference(graph, {x});
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

}  // namespace prunelab
