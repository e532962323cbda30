// Benchmark: CPU inference latency of models side by side (e.g. before/after pruning),
// at several batch sizes. Models are timed in alternation, round by round, so machine
// noise affects them alike; each cell is the median over rounds of the per-round median.
//
//   bench_latency --input 3x160x160 [--batches 1,16] [--iters 20] [--rounds 3] [--threads N]
//                 [--warmup 2] MODEL [MODEL...]   (names, .plm or .onnx files; the first is the baseline)

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/graph_module.h"
#include "exec/runtime.h"
#include "models/model_loader.h"

using namespace prunelab;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double latencyMs(GraphModule& m, const Shape& input, int batch, int iters, int warmup) {
  torch::NoGradGuard ng;
  const std::vector<at::Tensor> x = {torch::randn({batch, input[0], input[1], input[2]})};
  for (int i = 0; i < warmup; ++i) m->forward(x);
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = Clock::now();
    m->forward(x);  // every output (YOLO: the raw heads and the decode)
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  std::vector<int> batches{1, 16};
  int iters = 20, rounds = 3, threads = 0, warmup = 2;
  Shape input;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const bool hasValue = i + 1 < argc;
    if (k == "--input" && hasValue) input = parseShape(argv[++i]);
    else if (k == "--iters" && hasValue) iters = std::atoi(argv[++i]);
    else if (k == "--rounds" && hasValue) rounds = std::atoi(argv[++i]);
    else if (k == "--threads" && hasValue) threads = std::atoi(argv[++i]);
    else if (k == "--warmup" && hasValue) warmup = std::atoi(argv[++i]);
    else if (k == "--batches" && hasValue) {
      batches.clear();
      std::stringstream ss(argv[++i]);
      for (std::string b; std::getline(ss, b, ',');) batches.push_back(std::atoi(b.c_str()));
    } else if (k.rfind("--", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    } else {
      models.push_back(k);
    }
  }
  if (models.empty() || input.size() != 3 || iters < 1 || rounds < 1 || warmup < 0) {
    std::fprintf(stderr, "usage: bench_latency --input CxHxW [--batches 1,16] [--iters 20] [--rounds 3] [--warmup 2] MODEL...\n");
    return 2;
  }
  threads = configureThreads(threads);
  std::vector<GraphModule> modules;
  std::vector<GraphCost> costs;
  for (const auto& name : models) {
    ModelRequest req;
    req.model = name;
    auto g = std::make_shared<Graph>(loadModel(req));
    Graph counted = g->clone();
    inferShapes(counted, input);
    costs.push_back(computeCost(counted));
    modules.emplace_back(g);
    modules.back()->eval();
  }
  // times[model][batch] = per-round medians
  std::vector<std::vector<std::vector<double>>> times(models.size(), std::vector<std::vector<double>>(batches.size()));
  for (int r = 0; r < rounds; ++r)
    for (size_t b = 0; b < batches.size(); ++b)
      for (size_t m = 0; m < models.size(); ++m) times[m][b].push_back(latencyMs(modules[m], input, batches[b], iters, warmup));

  std::printf("input %s, %d threads, median of %d rounds x %d runs\n\n", shapeToString(input).c_str(), threads, rounds,
              iters);
  std::printf("| model | params | MACs | batch | ms | latency speed-up | MACs reduction | ratio |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (size_t m = 0; m < models.size(); ++m)
    for (size_t b = 0; b < batches.size(); ++b) {
      const double ms = median(times[m][b]), base = median(times[0][b]);
      const double speedup = base / ms, macsRed = double(costs[0].macs) / double(costs[m].macs);
      std::printf("| %s | %lld | %.3fG | %d | %.2f | %.2fx | %.2fx | %.2f |\n", models[m].c_str(),
                  static_cast<long long>(costs[m].params), costs[m].macs / 1e9, batches[b], ms, speedup, macsRed,
                  speedup / macsRed);
    }
  return 0;
}
