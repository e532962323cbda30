// Benchmark: the cost of pruning itself and what it buys at inference.
//
// 1. Speed of dependency analysis and of a 50% L2 plan + surgery (Torch-Pruning 1.6 on
//    torch 1.13 took 58 + 163 ms for ResNet-18 and 129 + 356 ms for YOLOv5s at 160 px
//    on this machine, per the pruning issue).
// 2. CPU latency before/after a 50% channel prune (ResNet-18 at 3x224x224, YOLOv5s at
//    3x160x160) at batch 1 and 16, as (latency speed-up) / (MACs reduction), with and
//    without round-to-8.
//
//   bench_pruning [--repeats 10] [--latency-iters 20] [--threads N]

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

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

struct Timing {
  double analysis = 0, importance = 0, plan = 0, surgery = 0;
  double planAndCut() const { return importance + plan + surgery; }
};

Timing timePruning(const Graph& model, const Shape& input, int repeats) {
  std::vector<double> a, s, p, c;
  for (int i = 0; i < repeats; ++i) {
    Graph g = model.share();  // surgery never modifies its input
    inferShapes(g, input);
    auto t0 = Clock::now();
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
    so.forwardCheck = false;  // Torch-Pruning's timing has no forward check either
    const SurgeryResult cut = applySurgery(deps, plan, so);
    c.push_back(ms(t0));
  }
  return {median(a), median(s), median(p), median(c)};
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

}  // namespace

int main(int argc, char** argv) {
  int repeats = 10, iters = 20, threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--repeats") repeats = v;
    else if (k == "--latency-iters") iters = v;
    else if (k == "--threads") threads = v;
  }
  threads = configureThreads(threads);
  ZooOptions zo;
  zo.numClasses = 1000;
  const Graph resnet18 = buildZooModel("resnet18", zo);
  const Graph yolo = test::yoloLike(32);
  const Graph yolov5s = buildYoloModel("yolov5s", {});

  std::printf("## Pruning speed (median of %d, %d threads)\n\n", repeats, threads);
  std::printf("| model | input | dependency analysis ms | L2 scores ms | 50%% plan ms | surgery ms | total ms | "
              "Torch-Pruning ms (graph + prune) | speed-up |\n|---|---|---|---|---|---|---|---|---|\n");
  const Timing r18 = timePruning(resnet18, {3, 224, 224}, repeats);
  std::printf("| ResNet-18 | 3x224x224 | %.1f | %.1f | %.1f | %.1f | %.1f | 58 + 163 | %.1fx |\n", r18.analysis,
              r18.importance, r18.plan, r18.surgery, r18.analysis + r18.planAndCut(),
              221.0 / (r18.analysis + r18.planAndCut()));
  const Timing y5 = timePruning(yolov5s, {3, 160, 160}, repeats);
  std::printf("| YOLOv5s | 3x160x160 | %.1f | %.1f | %.1f | %.1f | %.1f | 129 + 356 | %.1fx |\n", y5.analysis,
              y5.importance, y5.plan, y5.surgery, y5.analysis + y5.planAndCut(), 485.0 / (y5.analysis + y5.planAndCut()));
  const Timing yl = timePruning(yolo, {3, 160, 160}, repeats);
  std::printf("| YOLO-like synthetic (C2f, SPPF, 2 heads) | 3x160x160 | %.1f | %.1f | %.1f | %.1f | %.1f | - | - |\n\n",
              yl.analysis, yl.importance, yl.plan, yl.surgery, yl.analysis + yl.planAndCut());

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
  return 0;
}
