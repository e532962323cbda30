#pragma once
// A per-layer latency table: how long each Conv/Linear of a model takes on this machine at
// the model's input size, measured for a grid of kept-channel fractions, so that the
// latency of any pruning plan can be predicted without building it (the what-if), and a
// planner can aim at a latency instead of a MAC count (planToLatency).
//
// Model of a plan's latency:
//   predicted = layerScale x sum over layers of T_layer(in fraction, out fraction)
//             + fixedMs + activationMs x (kept fraction of activation elements)
// T_layer is bilinear in the two fractions between grid points (the grid is k/8 of the
// layer's width, k = 1..8: oneDNN's cost is near piecewise linear in the widths, with
// steps where the widths leave its vector blocks), and never larger at a narrower width (a
// measured cell above a wider one's is taken as noise and lowered to it). The rest is what the whole model spends
// outside the layers' own kernels: a part that does not shrink (the executor's per-op work,
// which dominates small inputs) and a part that moves with the activation memory (BN,
// activations, adds, concats, upsampling: memory-bound). The two are fitted from two
// whole-model measurements, the model as it is and with every group cut to half.
// `layerScale` (<= 1) corrects for isolated layer runs costing more than the same layer
// inside the model.
//
// Thread affinity: measuring runs ATen ops on the calling thread with the current
// intra-op thread setting; the table itself is plain data.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "pruning/planner.h"
#include "pruning/prune_plan.h"

namespace prunelab {

struct LayerLatency {
  std::string node;               // the Conv/Linear's name
  int64_t inChannels = 0;         // unpruned widths (input features for a Linear)
  int64_t outChannels = 0;
  bool tied = false;              // depthwise: the input keeps what the output keeps (1-D row)
  std::vector<double> inFractions;   // ascending, last 1.0; {1.0} when the input cannot shrink
  std::vector<double> outFractions;  // ascending, last 1.0
  std::vector<double> ms;            // ms[i * outFractions.size() + j]; tied: ms[j]

  double at(double inFraction, double outFraction) const;  // bilinear, clamped to the grid
};

// Widths of the heaviest layer measured one channel at a time: where latency steps.
struct WidthProbe {
  std::string node;
  std::vector<int64_t> widths;  // descending from the full width
  std::vector<double> ms;
};

struct LatencyTable {
  std::string model;         // what it was measured on (a name or file), for the reader
  Shape input;               // C x H x W
  int batch = 1;
  int threads = 0;           // intra-op threads when measured
  int64_t macs = 0;          // the unpruned model's MACs: identifies the model
  double totalMs = 0;        // the whole unpruned model (lower quartile of runs)
  double halfMs = 0;         // the whole model with every group cut to half (0: not measured)
  double fixedMs = 0;        // outside the layers, not shrinking
  double activationMs = 0;   // outside the layers, in proportion to the activations kept
  double layerScale = 1.0;
  std::vector<LayerLatency> layers;
  WidthProbe probe;
  int64_t suggestedRoundTo = 1;
  double seconds = 0;        // measuring time
};

// Times one layer: `node` with its weights cut to (inChannels, outChannels), on an input of
// `batch` x inChannels x (the node's spatial input shape). Tests inject their own.
using LayerTimer = std::function<double(const Graph& graph, const Node& node, int64_t inChannels,
                                        int64_t outChannels, int batch)>;
// The real one: the op's own forward (ops/op_table.h) under no-grad, the fastest of
// repeated runs after a warm-up (at least 5 runs and 10 ms, at most 50).
double timeLayerMs(const Graph& graph, const Node& node, int64_t inChannels, int64_t outChannels, int batch);

struct LatencyTableOptions {
  int batch = 1;
  int gridSteps = 8;     // fractions k / gridSteps
  int probeWidths = 32;  // widths below full in the step probe (0: no probe)
  int wholeModelIters = 15;
  LayerTimer timer;      // empty: timeLayerMs
  // Whole-model latency in ms of the graph as given (shapes inferred; batch x input);
  // empty: the executor's. Called on the model and on its half-width cut.
  std::function<double(Graph&)> modelTimer;
  std::function<void(int done, int total, const std::string& layer)> progress;  // optional
};

// `graph` must have shapes inferred at `input` (C x H x W). Groups that cannot shrink
// (pinned, or the image input) get a single fraction.
LatencyTable measureLatencyTable(const Graph& graph, const DependencyGraph& deps, const Shape& input,
                                 const std::string& modelName, const LatencyTableOptions& options = {});

// The predicted latency of `plan` applied to the graph the table was measured on.
double predictLatencyMs(const LatencyTable& table, const DependencyGraph& deps, const PrunePlan& plan);

// planToLatency (pruning/planner.h) plans from this table.

// The lowest latency the table predicts any plan can reach: every group down to its
// minimum width under `c` (the "strongest" plan planToLatency can make).
double fastestPredictedMs(const LatencyTable& table, const DependencyGraph& deps, const PlanConstraints& c);

// The largest round-to in {16, 8, 4, 2} whose treads are flat in the probe (the channels
// removed inside a block of that size save under 30 % of what as many channels save on
// average over the probe), else 1 (also when the probe's width hardly changes latency).
int64_t suggestRoundTo(const WidthProbe& probe);

// Throws prunelab::Error naming `what` when the table does not belong to this graph
// (different MACs, input or layers).
void checkTableMatches(const LatencyTable& table, const DependencyGraph& deps, const std::string& what);

void writeLatencyTableJson(const LatencyTable& table, const std::string& path);
LatencyTable readLatencyTableJson(const std::string& path);  // errors name the file

}  // namespace prunelab
