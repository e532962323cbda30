// Benchmark: the cost of pruning itself and what it buys at inference.
//
// 1. Speed of a 50% L2 prune: shape inference, dependency analysis, scores, plan and
//    surgery, each the median of --repeats runs on a fresh copy of the model. Only
//    PruneLab's own timings: tests/bench/peers_pruning.py runs Torch-Pruning on the same
//    cases, interleaved with this program, and prints the comparison.
// 2. CPU latency before/after a 50% channel prune (ResNet-18 at 3x224x224, YOLOv5s at
//    3x160x160) at batch 1 and 16, as (latency speed-up) / (MACs reduction), with and
//    without round-to-8.
//
//   bench_pruning [--repeats 10] [--latency-iters 20] [--threads N] [--speed-only] [--json]
//
// --speed-only skips part 2; --json prints part 1 as one JSON object per case (what
// peers_pruning.py reads) instead of a markdown table.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "../support/synthetic_models.h"
#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/graph_module.h"
#include "exec/runtime.h"
#include "models/yolo/yolo_builder.h"
#include "models/zoo.h"
#include "pruning/pruner.h"

using namespace prunelab;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Medians over the repeats, in ms. Shape inference counts: a user pays it before the
// analysis can start, as Torch-Pruning's users pay its tracing forward pass.
struct Timing {
  double shapes = 0, analysis = 0, importance = 0, plan = 0, surgery = 0;
  int64_t paramsBefore = 0, paramsAfter = 0;
  double total() const { return shapes + analysis + importance + plan + surgery; }
};

Timing timePruning(const Graph& model, const Shape& input, int repeats) {
  std::vector<double> sh, a, s, p, c;
  Timing t;
  for (int i = 0; i < repeats; ++i) {
    Graph g = model.share();  // surgery never modifies its input
    auto t0 = Clock::now();
    inferShapes(g, input);
    sh.push_back(ms(t0));
    t0 = Clock::now();
    const DependencyGraph deps(g);
    a.push_back(ms(t0));
    t0 = Clock::now();
    ImportanceOptions io;
    io.criterion = Criterion::L2;
    const auto scores = computeImportance(deps, io);
    s.push_back(ms(t0));
    t0 = Clock::now();
    const PrunePlan plan = planRatios(deps, scores, {}, 0.5, {});
    p.push_back(ms(t0));
    t0 = Clock::now();
    SurgeryOptions so;
    so.forwardCheck = false;  // a plain prune: no forward pass to check the result
    const SurgeryResult cut = applySurgery(deps, plan, so);
    c.push_back(ms(t0));
    t.paramsBefore = g.parameterCount();
    t.paramsAfter = cut.graph.parameterCount();
  }
  t.shapes = median(sh);
  t.analysis = median(a);
  t.importance = median(s);
  t.plan = median(p);
  t.surgery = median(c);
  return t;
}

struct SpeedCase {
  const char* name;  // peers_pruning.py matches its own cases by this name
  const Graph* model;
  Shape input;
};

void printSpeedRow(const SpeedCase& c, const Timing& t, bool json) {
  const std::string input = shapeToString(c.input);
  if (json) {
    std::printf("{\"case\": \"%s\", \"input\": \"%s\", \"total_ms\": %.3f, \"shapes_ms\": %.3f, "
                "\"analysis_ms\": %.3f, \"scores_ms\": %.3f, \"plan_ms\": %.3f, \"surgery_ms\": %.3f, "
                "\"params_before\": %lld, \"params_after\": %lld}\n",
                c.name, input.c_str(), t.total(), t.shapes, t.analysis, t.importance, t.plan, t.surgery,
                static_cast<long long>(t.paramsBefore), static_cast<long long>(t.paramsAfter));
  } else {
    std::printf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %lld -> %lld |\n", c.name, input.c_str(), t.shapes,
                t.analysis, t.importance, t.plan, t.surgery, t.total(), static_cast<long long>(t.paramsBefore),
                static_cast<long long>(t.paramsAfter));
  }
  std::fflush(stdout);
}

void benchSpeed(const std::vector<SpeedCase>& cases, int repeats, int threads, bool json) {
  if (!json) {
    std::printf("## Pruning speed (median of %d, %d threads)\n\n", repeats, threads);
    std::printf("| model | input | shape inference ms | dependency analysis ms | L2 scores ms | 50%% plan ms | "
                "surgery ms | total ms | params |\n|---|---|---|---|---|---|---|---|---|\n");
  }
  for (const SpeedCase& c : cases) printSpeedRow(c, timePruning(*c.model, c.input, repeats), json);
  if (!json) std::printf("\n");
}

double latencyMs(Graph g, const Shape& input, int batch, int iters) {
  auto shared = std::make_shared<Graph>(std::move(g));
  GraphModule m(shared);
  m->eval();
  torch::NoGradGuard ng;
  const std::vector<at::Tensor> x = {torch::randn({batch, input[0], input[1], input[2]})};
  for (int i = 0; i < 3; ++i) m->forward(x);
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = Clock::now();
    m->forward(x);  // every output (YOLO: three heads and the decode)
    t.push_back(ms(t0));
  }
  return median(t);
}

Graph pruned50(const Graph& model, const Shape& input, int64_t roundTo) {
  PruneRequest r;
  r.mode = PruneRequest::Mode::Ratios;
  r.fallbackRatio = 0.5;
  r.inputShape = input;
  r.importance.criterion = Criterion::L2;
  r.constraints.roundTo = roundTo;
  return runPruning(model, r).graph;
}

struct Options {
  int repeats = 10, iters = 20, threads = 0;
  bool speedOnly = false, json = false;
};

// Returns false (after saying why) on an unknown option, a missing value or a count below 1.
bool parseOptions(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--speed-only") {
      o.speedOnly = true;
    } else if (k == "--json") {
      o.json = true;
    } else if ((k == "--repeats" || k == "--latency-iters" || k == "--threads") && i + 1 < argc) {
      const int v = std::atoi(argv[++i]);
      (k == "--repeats" ? o.repeats : k == "--threads" ? o.threads : o.iters) = v;
    } else {
      std::fprintf(stderr, "bench_pruning: unknown option or missing value: %s\n", k.c_str());
      return false;
    }
  }
  if (o.repeats >= 1 && o.iters >= 1) return true;
  std::fprintf(stderr, "bench_pruning: --repeats and --latency-iters must be >= 1\n");
  return false;
}

void benchLatency(const Graph& resnet18, const Graph& yolov5s, int iters) {
  std::printf("## Latency before/after a 50%% channel prune (median of %d)\n\n", iters);
  std::printf("| model | input | round-to | batch | MACs before | MACs after | ms before | ms after | latency speed-up | "
              "MACs reduction | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  struct Case {
    const char* name;
    const Graph* model;
    Shape input;
  };
  for (const Case& c : {Case{"ResNet-18", &resnet18, {3, 224, 224}}, Case{"YOLOv5s", &yolov5s, {3, 160, 160}}}) {
    Graph base = c.model->clone();
    inferShapes(base, c.input);
    const int64_t macs0 = computeCost(base).macs;
    for (const int64_t roundTo : {int64_t{1}, int64_t{8}}) {
      const Graph p = pruned50(*c.model, c.input, roundTo);
      const int64_t macs1 = computeCost(p).macs;
      for (const int batch : {1, 16}) {
        const double before = latencyMs(c.model->clone(), c.input, batch, iters);
        const double after = latencyMs(p.clone(), c.input, batch, iters);
        const double speedup = before / after, reduction = double(macs0) / double(macs1);
        std::printf("| %s | %s | %lld | %d | %.3fG | %.3fG | %.1f | %.1f | %.2fx | %.2fx | %.2f |\n", c.name,
                    shapeToString(c.input).c_str(), static_cast<long long>(roundTo), batch, macs0 / 1e9, macs1 / 1e9,
                    before, after, speedup, reduction, speedup / reduction);
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parseOptions(argc, argv, o)) return 2;
  const int threads = configureThreads(o.threads);
  ZooOptions zo;
  zo.numClasses = 1000;
  const Graph resnet18 = buildZooModel("resnet18", zo);
  const Graph yolo = test::yoloLike(32);
  const Graph yolov5s = buildYoloModel("yolov5s", {});
  benchSpeed({{"ResNet-18", &resnet18, {3, 224, 224}},
              {"YOLOv5s", &yolov5s, {3, 160, 160}},
              {"YOLO-like synthetic (C2f, SPPF, 2 heads)", &yolo, {3, 160, 160}}},
             o.repeats, threads, o.json);
  if (!o.speedOnly) benchLatency(resnet18, yolov5s, o.iters);
  return 0;
}
