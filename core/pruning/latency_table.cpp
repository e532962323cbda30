#include "pruning/latency_table.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/shape_inference.h"
#include "exec/latency.h"
#include "io/json_read.h"
#include "ops/op_table.h"
#include "pruning/surgery.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab {

namespace {

using Clock = std::chrono::steady_clock;

// Index of the grid interval holding x and the weight of its upper end (clamped).
std::pair<size_t, double> bracket(const std::vector<double>& grid, double x) {
  if (grid.size() == 1 || x <= grid.front()) return {0, 0.0};
  if (x >= grid.back()) return {grid.size() - 2, 1.0};
  size_t i = 0;
  while (grid[i + 1] < x) ++i;
  const double step = grid[i + 1] - grid[i];
  return {i, step > 0 ? (x - grid[i]) / step : 1.0};
}

double lerp(double a, double b, double t) { return a + (b - a) * t; }

std::vector<double> fractionGrid(int steps) {
  std::vector<double> f;
  for (int k = 1; k <= steps; ++k) f.push_back(double(k) / double(steps));
  return f;
}

int64_t widthAt(double fraction, int64_t full) {
  return std::clamp<int64_t>(std::llround(fraction * double(full)), 1, full);
}

// Whether the channels of value v can be removed by some plan.
bool canShrink(const DependencyGraph& deps, ValueId v) {
  if (deps.channelCount(v) <= 0) return false;
  const int g = deps.locate(v, 0).first;
  return g >= 0 && deps.groups()[static_cast<size_t>(g)].prunable();
}

// The layers a table has rows for: channel sources that run in the executor.
bool timedLayer(const Node& n) {
  const OpSpec& spec = opSpec(n.op);
  return spec.isChannelSource && spec.forward && !n.inputs.empty() && !n.outputs.empty();
}

// Scores that rank nothing: for plans whose time, not whose channels, matters.
GroupScores equalScores(const DependencyGraph& deps) {
  GroupScores equal;
  for (const Group& g : deps.groups()) equal.emplace_back(static_cast<size_t>(g.size), 0.0);
  return equal;
}

// Kept fraction of each value's channels under `plan` (1 for values without channels).
std::vector<double> keptFractions(const DependencyGraph& deps, const PrunePlan& plan) {
  const auto kept = deps.keptChannels(plan.removed);
  std::vector<double> f(kept.size(), 1.0);
  for (size_t v = 0; v < kept.size(); ++v) {
    const int64_t c = deps.channelCount(static_cast<ValueId>(v));
    if (c > 0) f[v] = double(kept[v].size()) / double(c);
  }
  return f;
}

// The layers' own time for kept fractions `f` (keptFractions), from the table (unscaled).
double layerPartMs(const LatencyTable& table, const Graph& g, const std::vector<double>& f) {
  std::map<std::string, const Node*> byName;  // one pass over the graph, not one per row
  for (const Node& n : g.nodes())
    if (timedLayer(n)) byName.emplace(n.name, &n);
  double ms = 0;
  for (const LayerLatency& row : table.layers) {
    const auto it = byName.find(row.node);
    if (it == byName.end()) throw Error("latency table", "has a layer '" + row.node + "' this model lacks");
    const Node& n = *it->second;
    ms += row.at(f[static_cast<size_t>(n.inputs[0])], f[static_cast<size_t>(n.outputs[0])]);
  }
  return ms;
}

// Activation memory kept for fractions `f`: every value with a channel dimension, by its
// element count.
double activationFraction(const DependencyGraph& deps, const std::vector<double>& f) {
  const Graph& g = deps.graph();
  double all = 0, left = 0;
  for (size_t v = 0; v < g.values().size(); ++v) {
    const Shape& s = g.values()[v].shape;
    if (s.size() < 2 || deps.channelCount(static_cast<ValueId>(v)) <= 0) continue;
    double numel = 1;
    for (int64_t d : s) numel *= double(std::max<int64_t>(d, 1));
    all += numel;
    left += numel * f[v];
  }
  return all > 0 ? left / all : 1.0;
}

}  // namespace

double LayerLatency::at(double inFraction, double outFraction) const {
  if (tied) {
    const auto [j, t] = bracket(outFractions, outFraction);
    return outFractions.size() == 1 ? ms[0] : lerp(ms[j], ms[j + 1], t);
  }
  const size_t w = outFractions.size();
  const auto cell = [&](size_t i, size_t j) { return ms[i * w + j]; };
  const std::pair<size_t, double> outAt = bracket(outFractions, outFraction);
  const auto row = [&](size_t i) {
    return w == 1 ? cell(i, 0) : lerp(cell(i, outAt.first), cell(i, outAt.first + 1), outAt.second);
  };
  if (inFractions.size() == 1) return row(0);
  const auto [i, ti] = bracket(inFractions, inFraction);
  return lerp(row(i), row(i + 1), ti);
}

double timeLayerMs(const Graph& graph, const Node& node, int64_t inChannels, int64_t outChannels, int batch) {
  const OpSpec& spec = opSpec(node.op);
  if (!spec.forward) throw Error(node.name, "has no forward to time");
  Node n = node;  // tensors are replaced below, never written: the model is untouched
  for (const TensorChannelDims& d : slicedChannelDims(n)) {
    for (NamedTensor& t : n.tensors) {
      if (t.name != d.tensor || !t.tensor.defined()) continue;
      at::Tensor cut = t.tensor;
      if (d.outDim >= 0) cut = cut.narrow(d.outDim, 0, std::min(outChannels, cut.size(d.outDim)));
      if (d.inDim >= 0) cut = cut.narrow(d.inDim, 0, std::min(inChannels, cut.size(d.inDim)));
      t.tensor = cut.contiguous();
    }
  }
  if (spec.resizeAttrs) spec.resizeAttrs(n, {inChannels}, {outChannels});
  Shape shape = graph.value(node.inputs[0]).shape;
  if (shape.size() < 2) throw Error(node.name, "input has no channel dimension");
  shape[0] = batch;
  shape[1] = inChannels;
  const at::Tensor x = at::randn(shape);
  c10::NoGradGuard noGrad;
  const OpContext ctx{};
  spec.forward(n, {x}, ctx);  // warm-up: oneDNN builds its primitive on the first call
  std::vector<double> ms;
  double total = 0;
  while (ms.size() < 5 || (total < 10.0 && ms.size() < 50)) {
    const auto t0 = Clock::now();
    spec.forward(n, {x}, ctx);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    total += ms.back();
  }
  // The fastest run: other processes only ever add time, and a layer's own cost varies
  // little, so the minimum is the steadiest estimate on a shared machine (a median of a few
  // runs still jumps 40x when a thread of the pair is preempted mid-kernel).
  return *std::min_element(ms.begin(), ms.end());
}

namespace {

// A narrower layer never costs more than a wider one: a slower time at a narrower width is
// the machine (a run preempted under load) or a kernel path that width happened to take, and
// left in the row it makes a deeper cut predict slower. The planner raises its cut until the
// prediction falls to the goal, so such a row makes it find no plan ("unreachable") or only
// the strongest. Each cell becomes the least of itself and every wider cell.
void keepMonotone(LayerLatency& row) {
  const size_t nOut = row.outFractions.size(), nIn = row.ms.size() / nOut;
  for (size_t i = nIn; i-- > 0;)
    for (size_t j = nOut; j-- > 0;) {
      double& m = row.ms[i * nOut + j];
      if (i + 1 < nIn) m = std::min(m, row.ms[(i + 1) * nOut + j]);
      if (j + 1 < nOut) m = std::min(m, row.ms[i * nOut + j + 1]);
    }
}

// One layer's row: its time at every grid width its input and output can shrink to.
LayerLatency measureLayer(const Graph& graph, const DependencyGraph& deps, const Node& n, const LayerTimer& timer,
                          const LatencyTableOptions& o) {
  const std::vector<double> grid = fractionGrid(o.gridSteps);
  const std::vector<double> full{1.0};
  LayerLatency row;
  row.node = n.name;
  const ValueId in = n.inputs[0], out = n.outputs[0];
  row.inChannels = graph.value(in).shape.at(1);
  row.outChannels = graph.value(out).shape.at(1);
  const int gIn = deps.locate(in, 0).first, gOut = deps.locate(out, 0).first;
  row.tied = gIn >= 0 && gIn == gOut;  // depthwise: one channel space through the layer
  row.outFractions = canShrink(deps, out) ? grid : full;
  row.inFractions = row.tied || !canShrink(deps, in) ? full : grid;
  for (double fi : row.inFractions)
    for (double fo : row.outFractions) {
      const int64_t cout = widthAt(fo, row.outChannels);
      const int64_t cin = row.tied ? cout : widthAt(fi, row.inChannels);
      row.ms.push_back(timer(graph, n, cin, cout, o.batch));
    }
  keepMonotone(row);
  return row;
}

// The step probe: the heaviest layer whose output can shrink, timed one width at a time,
// and the round-to its staircase suggests. `nodes[k]` is the node of t.layers[k].
void probeWidths(LatencyTable& t, const Graph& graph, const std::vector<const Node*>& nodes, const LayerTimer& timer,
                 const LatencyTableOptions& o) {
  const LayerLatency* heaviest = nullptr;
  const Node* heavyNode = nullptr;
  for (size_t k = 0; k < t.layers.size(); ++k) {
    const LayerLatency& row = t.layers[k];
    if (row.outFractions.size() > 1 && row.outChannels > 8 && (!heaviest || row.ms.back() > heaviest->ms.back())) {
      heaviest = &row;
      heavyNode = nodes[k];
    }
  }
  if (!heaviest || o.probeWidths <= 0) return;
  t.probe.node = heaviest->node;
  const int64_t lowest = std::max<int64_t>(1, heaviest->outChannels - o.probeWidths);
  for (int64_t w = heaviest->outChannels; w >= lowest; --w) {
    t.probe.widths.push_back(w);
    t.probe.ms.push_back(timer(graph, *heavyNode, heaviest->tied ? w : heaviest->inChannels, w, o.batch));
  }
  t.suggestedRoundTo = suggestRoundTo(t.probe);
}

// The whole model's time and what the layers do not explain of it: the scale that makes
// the layers' sum fit, and the rest split into a fixed part and a part that shrinks with
// the activations (measured on the model cut to half width).
void splitWholeModelTime(LatencyTable& t, const Graph& graph, const DependencyGraph& deps, const Shape& input,
                         const LatencyTableOptions& o) {
  Shape nchw{o.batch};
  nchw.insert(nchw.end(), input.begin(), input.end());
  const auto timeModel = [&](Graph& g) {
    return o.modelTimer ? o.modelTimer(g) : measureLatencyMs(g, nchw, o.wholeModelIters);
  };
  Graph whole = graph.clone();
  t.totalMs = timeModel(whole);
  const PrunePlan none = emptyPlan(deps);
  const double layersMs = layerPartMs(t, graph, keptFractions(deps, none));
  t.layerScale = layersMs > t.totalMs && layersMs > 0 ? t.totalMs / layersMs : 1.0;
  const double restFull = std::max(0.0, t.totalMs - t.layerScale * layersMs);
  t.fixedMs = restFull;  // until the half-width model says how much of it shrinks
  // Every group cut to half. Which channels go does not change the time: equal scores
  // (no importance computed) take the first half.
  const PrunePlan half = planRatios(deps, equalScores(deps), {}, 0.5, {});
  const std::vector<double> halfFractions = keptFractions(deps, half);
  const double act = activationFraction(deps, halfFractions);
  if (half.empty() || act >= 0.99) return;
  Graph cut = applySurgery(deps, half).graph;
  inferShapes(cut, input);
  t.halfMs = timeModel(cut);
  const double restHalf = t.halfMs - t.layerScale * layerPartMs(t, graph, halfFractions);
  // rest = fixed + activation x act through the two points, neither part negative.
  t.activationMs = std::clamp((restFull - restHalf) / (1.0 - act), 0.0, restFull);
  t.fixedMs = restFull - t.activationMs;
}

}  // namespace

LatencyTable measureLatencyTable(const Graph& graph, const DependencyGraph& deps, const Shape& input,
                                 const std::string& modelName, const LatencyTableOptions& o) {
  if (o.batch < 1 || o.gridSteps < 1) throw Error("latency table", "batch and grid steps must be at least 1");
  const auto start = Clock::now();
  const LayerTimer timer = o.timer ? o.timer : LayerTimer(timeLayerMs);
  LatencyTable t;
  t.model = modelName;
  t.input = input;
  t.batch = o.batch;
  t.threads = at::get_num_threads();
  t.macs = estimateCost(deps, emptyPlan(deps)).macs;

  std::vector<const Node*> nodes;
  for (const Node& n : graph.nodes())
    if (timedLayer(n)) nodes.push_back(&n);
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (o.progress) o.progress(static_cast<int>(k), static_cast<int>(nodes.size()), nodes[k]->name);
    t.layers.push_back(measureLayer(graph, deps, *nodes[k], timer, o));
  }
  if (o.progress) o.progress(static_cast<int>(nodes.size()), static_cast<int>(nodes.size()), "");
  probeWidths(t, graph, nodes, timer, o);
  splitWholeModelTime(t, graph, deps, input, o);
  t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return t;
}

double predictLatencyMs(const LatencyTable& table, const DependencyGraph& deps, const PrunePlan& plan) {
  const std::vector<double> f = keptFractions(deps, plan);
  return table.layerScale * layerPartMs(table, deps.graph(), f) + table.fixedMs +
         table.activationMs * activationFraction(deps, f);
}

PrunePlan planToLatency(const DependencyGraph& deps, const GroupScores& scores, const LatencyTable& table,
                        double targetMs, const PlanConstraints& c, bool strongestIfUnreachable) {
  checkTableMatches(table, deps, "latency table");
  if (!std::isfinite(targetMs) || targetMs <= 0 || targetMs >= table.totalMs)
    throw Error("--target-latency", "must be between 0 and the model's measured " + std::to_string(table.totalMs) + " ms");
  const auto cost = [&](const PrunePlan& p) { return predictLatencyMs(table, deps, p); };
  return planToCost(deps, scores, cost, targetMs, "--target-latency", "ms (predicted)", c, strongestIfUnreachable);
}

double fastestPredictedMs(const LatencyTable& table, const DependencyGraph& deps, const PlanConstraints& c) {
  // 0.999 of every group: one channel left (two in groups over 1000), then raised to the
  // constraints' minimum by the planner, as planToLatency's strongest plan is.
  return predictLatencyMs(table, deps, planRatios(deps, equalScores(deps), {}, 0.999, c));
}

int64_t suggestRoundTo(const WidthProbe& probe) {
  std::map<int64_t, double> ms;
  for (size_t i = 0; i < probe.widths.size(); ++i) ms[probe.widths[i]] = probe.ms[i];
  if (ms.size() < 3) return 1;
  const auto [lowW, lowMs] = *ms.begin();
  const auto [highW, highMs] = *ms.rbegin();
  // No steps to find when the width barely matters.
  if (highMs <= 0 || lowMs / highMs > 0.97) return 1;
  const double slope = (highMs - lowMs) / double(highW - lowW);  // ms per channel, on average
  for (int64_t r : {16, 8, 4, 2}) {
    // On a staircase of period r, the channels removed inside a block save nothing: the
    // saving from the block's top, per the average saving of that many channels, is ~0
    // (on a smooth curve it is ~1).
    std::vector<double> saving;
    for (const auto& [w, t] : ms) {
      if (w % r == 0) continue;
      const int64_t top = (w / r + 1) * r;
      const auto it = ms.find(top);
      if (it != ms.end()) saving.push_back((it->second - t) / (double(top - w) * slope));
    }
    if (saving.size() < 2) continue;
    std::sort(saving.begin(), saving.end());
    if (saving[saving.size() / 2] < 0.3) return r;
  }
  return 1;
}

void checkTableMatches(const LatencyTable& table, const DependencyGraph& deps, const std::string& what) {
  const int64_t macs = estimateCost(deps, emptyPlan(deps)).macs;
  if (macs != table.macs)
    throw Error(what, "was measured on a model with " + std::to_string(table.macs) + " MACs, this one has " +
                          std::to_string(macs));
  for (const LayerLatency& row : table.layers) {
    const Node* n = deps.graph().findNode(row.node);
    if (!n || deps.graph().value(n->outputs[0]).shape.at(1) != row.outChannels)
      throw Error(what, "layer '" + row.node + "' does not match this model");
  }
}

void writeLatencyTableJson(const LatencyTable& t, const std::string& path) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerLatency& r : t.layers)
    layers.push_back({{"node", r.node},
                      {"in_channels", r.inChannels},
                      {"out_channels", r.outChannels},
                      {"tied", r.tied},
                      {"in_fractions", r.inFractions},
                      {"out_fractions", r.outFractions},
                      {"ms", r.ms}});
  const nlohmann::json j = {{"format", "prunelab-latency-1"},
                            {"model", t.model},
                            {"input", t.input},
                            {"batch", t.batch},
                            {"threads", t.threads},
                            {"macs", t.macs},
                            {"total_ms", t.totalMs},
                            {"half_ms", t.halfMs},
                            {"fixed_ms", t.fixedMs},
                            {"activation_ms", t.activationMs},
                            {"layer_scale", t.layerScale},
                            {"suggested_round_to", t.suggestedRoundTo},
                            {"seconds", t.seconds},
                            {"probe", {{"node", t.probe.node}, {"widths", t.probe.widths}, {"ms", t.probe.ms}}},
                            {"layers", layers}};
  writeFileAtomically(path, [&](std::ostream& os) { os << j.dump(1) << "\n"; });
}

LatencyTable readLatencyTableJson(const std::string& path) {
  const nlohmann::json j =
      readJsonDocument(path, "prunelab-latency-1", "a latency table (prunelab-cli latency-table --out)");
  try {
    LatencyTable t;
    t.model = j.at("model").get<std::string>();
    t.input = jsonInts<int64_t>(j.at("input"));
    t.batch = jsonInt<int>(j.at("batch"));
    t.threads = jsonInt<int>(j.at("threads"));
    t.macs = jsonInt<int64_t>(j.at("macs"));
    t.totalMs = j.at("total_ms").get<double>();
    t.halfMs = j.at("half_ms").get<double>();
    t.fixedMs = j.at("fixed_ms").get<double>();
    t.activationMs = j.at("activation_ms").get<double>();
    t.layerScale = j.at("layer_scale").get<double>();
    t.suggestedRoundTo = jsonInt<int64_t>(j.at("suggested_round_to"));
    t.seconds = j.value("seconds", 0.0);
    const auto& p = j.at("probe");
    t.probe.node = p.at("node").get<std::string>();
    t.probe.widths = jsonInts<int64_t>(p.at("widths"));
    t.probe.ms = p.at("ms").get<std::vector<double>>();
    const auto finite = [](double v) { return std::isfinite(v) && v >= 0; };
    bool ok = t.batch >= 1 && t.input.size() == 3 && t.probe.widths.size() == t.probe.ms.size() &&
              finite(t.totalMs) && finite(t.halfMs) && finite(t.fixedMs) &&
              finite(t.activationMs) && finite(t.layerScale) && t.suggestedRoundTo >= 1;
    for (const auto& r : j.at("layers")) {
      LayerLatency row;
      row.node = r.at("node").get<std::string>();
      row.inChannels = jsonInt<int64_t>(r.at("in_channels"));
      row.outChannels = jsonInt<int64_t>(r.at("out_channels"));
      row.tied = r.at("tied").get<bool>();
      row.inFractions = r.at("in_fractions").get<std::vector<double>>();
      row.outFractions = r.at("out_fractions").get<std::vector<double>>();
      row.ms = r.at("ms").get<std::vector<double>>();
      const size_t cells = row.tied ? row.outFractions.size() : row.inFractions.size() * row.outFractions.size();
      ok = ok && !row.inFractions.empty() && !row.outFractions.empty() && row.ms.size() == cells &&
           std::is_sorted(row.inFractions.begin(), row.inFractions.end()) &&
           std::is_sorted(row.outFractions.begin(), row.outFractions.end()) &&
           std::all_of(row.ms.begin(), row.ms.end(), finite);
      if (!ok) throw Error(path, "layer '" + row.node + "' is malformed");
      keepMonotone(row);  // tables written before rows were kept monotone
      t.layers.push_back(std::move(row));
    }
    if (!ok) throw Error(path, "malformed latency table");
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("malformed latency table: ") + e.what());
  }
}

}  // namespace prunelab
