#include "exec/latency.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "exec/inference.h"
#include "graph/input_shape.h"

namespace prunelab {

namespace {

at::Tensor batchOne(const Graph& graph) {
  Shape in{1};
  const Shape chw = defaultInputShape(graph);
  in.insert(in.end(), chw.begin(), chw.end());
  return at::randn(in);
}

double timedRunMs(Graph& graph, const at::Tensor& x) {
  const auto t0 = std::chrono::steady_clock::now();
  runInference(graph, {x});
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

double measureLatencyMs(Graph& graph, int iters) {
  const at::Tensor x = batchOne(graph);
  for (int i = 0; i < 3; ++i) runInference(graph, {x});
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, iters); ++i) ms.push_back(timedRunMs(graph, x));
  return quantile(ms, 0.5);
}

double measureLatencyMs(Graph& graph, const Shape& nchw, int iters) {
  const at::Tensor x = at::randn(nchw);
  for (int i = 0; i < 3; ++i) runInference(graph, {x});
  std::vector<double> ms;
  for (int i = 0; i < std::max(1, iters); ++i) ms.push_back(timedRunMs(graph, x));
  return quantile(ms, 0.25);
}

std::pair<double, double> measureLatencyPairMs(Graph& a, Graph& b, int iters) {
  const at::Tensor xa = batchOne(a), xb = batchOne(b);
  for (int i = 0; i < 3; ++i) {
    runInference(a, {xa});
    runInference(b, {xb});
  }
  std::vector<double> ma, mb;
  for (int i = 0; i < std::max(1, iters); ++i) {
    ma.push_back(timedRunMs(a, xa));
    mb.push_back(timedRunMs(b, xb));
  }
  return {quantile(ma, 0.25), quantile(mb, 0.25)};
}

}  // namespace prunelab
