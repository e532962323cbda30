#include "pruning/sensitivity.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/cost.h"
#include "exec/latency.h"
#include "io/json_read.h"
#include "ops/op_table.h"
#include "pruning/prune_plan.h"
#include "pruning/surgery.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab {

const SensitivityRow* SensitivityTable::row(const std::string& group) const {
  for (const SensitivityRow& r : rows)
    if (r.group == group) return &r;
  return nullptr;
}

const char* sensitivityMethodName(SensitivityMethod m) { return m == SensitivityMethod::Mask ? "mask" : "surgery"; }

SensitivityMethod parseSensitivityMethod(const std::string& name) {
  if (name == "mask") return SensitivityMethod::Mask;
  if (name == "surgery") return SensitivityMethod::Surgery;
  throw Error("--method", "must be mask or surgery, got '" + name + "'");
}

namespace {

PrunePlan onlyGroup(const DependencyGraph& deps, int group, std::vector<int64_t> removed) {
  PrunePlan p = emptyPlan(deps);
  p.removed.at(static_cast<size_t>(group)) = std::move(removed);
  return p;
}

// Zeroes, in `g` (the sweep's own copy of the analysed graph), the weights with which every
// channel source reads the plan's removed channels - the in-dim slices surgery would drop -
// and puts them back when it goes out of scope, so the next cell starts from the model.
class ReaderMask {
 public:
  ReaderMask(Graph& g, const DependencyGraph& deps, const PrunePlan& plan) {
    const auto kept = deps.keptChannels(plan.removed);
    at::NoGradGuard noGrad;
    for (Node& n : g.nodes()) {
      if (!opSpec(n.op).isChannelSource || n.inputs.empty()) continue;
      const std::vector<int64_t>& keep = kept[n.inputs[0]];
      for (const TensorChannelDims& d : slicedChannelDims(n)) {
        if (d.inDim < 0) continue;
        at::Tensor t = n.tensor(d.tensor);
        const int64_t width = t.size(d.inDim);
        if (static_cast<int64_t>(keep.size()) == width) continue;  // surgery leaves this dim whole
        std::vector<bool> kept01(static_cast<size_t>(width), false);
        for (int64_t c : keep) kept01.at(static_cast<size_t>(c)) = true;
        std::vector<int64_t> cut;
        for (int64_t c = 0; c < width; ++c)
          if (!kept01[static_cast<size_t>(c)]) cut.push_back(c);
        const at::Tensor index = at::tensor(cut, at::kLong);
        m_saved.push_back({t, d.inDim, index, t.index_select(d.inDim, index)});
        t.index_fill_(d.inDim, index, 0);
      }
    }
  }
  ~ReaderMask() {
    at::NoGradGuard noGrad;
    for (Saved& s : m_saved) s.tensor.index_copy_(s.dim, s.index, s.values);
  }
  ReaderMask(const ReaderMask&) = delete;
  ReaderMask& operator=(const ReaderMask&) = delete;

 private:
  struct Saved {
    at::Tensor tensor;
    int64_t dim;
    at::Tensor index, values;
  };
  std::vector<Saved> m_saved;
};

// What one sweep shares between its cells.
struct Sweep {
  const DependencyGraph& deps;
  const SensitivityMetric& metric;
  const SensitivityOptions& o;
  const SensitivityTable& t;
  std::shared_ptr<Graph> masked;  // the Mask method's copy of the model
  double floor = -std::numeric_limits<double>::infinity();  // a metric at or below it: collapsed
};

// The cut's model (Surgery) or the masked copy's metric (Mask), and the narrowed model's
// latency when asked. `collapsed`: the metric of a lower ratio stands in for this one's.
void measureCell(const Sweep& s, const PrunePlan& plan, const double* collapsed, SensitivityCell& cell) {
  SurgeryOptions so;
  so.forwardCheck = false;  // the metric or the latency runs the model anyway
  std::shared_ptr<Graph> cut;
  const auto narrowed = [&] {
    if (!cut) cut = std::make_shared<Graph>(applySurgery(s.deps, plan, so).graph);
    return cut;
  };
  if (collapsed) {
    cell.metric = *collapsed;
    cell.measured = false;
  } else if (s.o.method == SensitivityMethod::Mask) {
    const ReaderMask mask(*s.masked, s.deps, plan);
    cell.metric = s.metric(s.masked);
  } else {
    cell.metric = s.metric(narrowed());
  }
  if (s.o.latency) cell.latencyMs = measureLatencyMs(*narrowed(), s.o.latencyIters);
}

SensitivityCell sweepCell(const Sweep& s, const Group& g, const std::vector<double>& groupScores, double ratio,
                          const double* collapsed) {
  SensitivityCell cell;
  cell.ratio = ratio;
  std::vector<int64_t> removed = chooseChannels(g, groupScores, channelsForRatio(ratio, g.size), s.o.constraints);
  cell.removed = static_cast<int64_t>(removed.size());
  if (removed.empty()) {  // the constraints keep the whole group at this ratio
    cell.metric = s.t.baseline;
    cell.params = s.t.params;
    cell.macs = s.t.macs;
    cell.latencyMs = s.t.latencyMs;
    return cell;
  }
  const PrunePlan plan = onlyGroup(s.deps, g.id, std::move(removed));
  const CostEstimate cost = estimateCost(s.deps, plan);
  cell.params = cost.params;
  cell.macs = cost.macs;
  measureCell(s, plan, collapsed, cell);
  return cell;
}

void checkRatios(const std::vector<double>& ratios) {
  if (ratios.empty()) throw Error("--ratios", "needs at least one ratio");
  for (double r : ratios)
    if (!std::isfinite(r) || r <= 0.0 || r >= 1.0) throw Error("--ratios", "each ratio must be in (0, 1), got " + std::to_string(r));
}

// The floor under which a cut counts as collapsed; -inf when nothing stops (stopBelow 0,
// or a baseline already at the floor: an untrained model has nothing left to collapse).
double collapseFloor(const SensitivityOptions& o, double baseline) {
  const double floor = std::max(o.chance, o.stopBelow * baseline);
  if (o.stopBelow <= 0.0 || !(baseline > floor)) return -std::numeric_limits<double>::infinity();
  return floor;
}

// The ids of the groups a sweep cuts, in dependency-analysis order.
std::vector<int> sweptGroups(const DependencyGraph& deps, const GroupScores& scores, const std::vector<std::string>& keys,
                             const std::vector<std::string>& only) {
  for (const std::string& k : only)
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) throw Error("--groups", "the model has no group '" + k + "'");
  std::vector<int> groups;
  for (const Group& g : deps.groups()) {
    const std::string& key = keys[static_cast<size_t>(g.id)];
    if (!only.empty() && std::find(only.begin(), only.end(), key) == only.end()) continue;
    if (g.prunable() && scored(scores[static_cast<size_t>(g.id)])) groups.push_back(g.id);
  }
  return groups;
}

}  // namespace

std::vector<std::string> sensitivityKeys(const DependencyGraph& deps) {
  std::vector<std::string> keys;
  std::map<std::string, int> seen;
  for (const Group& g : deps.groups()) {
    const int n = ++seen[g.name];
    keys.push_back(n == 1 ? g.name : g.name + "#" + std::to_string(n));
  }
  return keys;
}

SensitivityTable sweepSensitivity(const Graph& model, const Shape& input, const SensitivityMetric& metric,
                                  const SensitivityOptions& o, const SensitivityProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  checkRatios(o.ratios);
  SensitivityTable t;
  t.criterion = criterionName(o.importance.criterion);
  t.input = input;
  t.ratios = o.ratios;
  t.method = sensitivityMethodName(o.method);
  t.stopBelow = std::max(0.0, o.stopBelow);
  const DependencyGraph deps(model);
  const GroupScores scores = computeImportance(deps, o.importance);
  const GraphCost base = computeCost(model);
  t.params = base.params;
  t.macs = base.macs;
  Sweep s{deps, metric, o, t, nullptr};
  // The Mask method zeroes weights in place: on a copy, never the caller's tensors.
  auto evaluated = std::make_shared<Graph>(o.method == SensitivityMethod::Mask ? model.clone() : model.share());
  if (o.method == SensitivityMethod::Mask) s.masked = evaluated;
  t.baseline = metric(evaluated);
  s.floor = collapseFloor(o, t.baseline);
  if (o.latency) t.latencyMs = measureLatencyMs(*evaluated, o.latencyIters);

  const std::vector<std::string> keys = sensitivityKeys(deps);
  const std::vector<int> groups = sweptGroups(deps, scores, keys, o.groups);
  const int total = static_cast<int>(groups.size() * o.ratios.size());
  int done = 0;
  const auto finish = [&] {
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return t;
  };
  for (int gid : groups) {
    const Group& g = deps.groups()[static_cast<size_t>(gid)];
    SensitivityRow row;
    row.group = keys[static_cast<size_t>(gid)];
    row.channels = g.size;
    std::optional<double> collapsed;  // set once a cut of this group has collapsed
    for (double ratio : o.ratios) {
      row.cells.push_back(sweepCell(s, g, scores[static_cast<size_t>(gid)], ratio, collapsed ? &*collapsed : nullptr));
      if (!collapsed && row.cells.back().metric <= s.floor) collapsed = row.cells.back().metric;
      ++done;
      if (progress && !progress(done, total, row.group, ratio)) {
        t.rows.push_back(std::move(row));
        return finish();
      }
    }
    t.rows.push_back(std::move(row));
  }
  return finish();
}

void writeSensitivityJson(const SensitivityTable& t, const std::string& path) {
  nlohmann::json rows = nlohmann::json::array();
  for (const SensitivityRow& r : t.rows) {
    nlohmann::json cells = nlohmann::json::array();
    for (const SensitivityCell& c : r.cells)
      cells.push_back({{"ratio", c.ratio},   {"removed", c.removed}, {"metric", c.metric},
                       {"params", c.params}, {"macs", c.macs},       {"latency_ms", c.latencyMs},
                       {"measured", c.measured}});
    rows.push_back({{"group", r.group}, {"channels", r.channels}, {"cells", cells}});
  }
  const nlohmann::json j = {{"format", "prunelab-sensitivity-1"},
                            {"model", t.model},
                            {"metric", t.metric},
                            {"criterion", t.criterion},
                            {"val_images", t.valImages},
                            {"input", t.input},
                            {"baseline", t.baseline},
                            {"params", t.params},
                            {"macs", t.macs},
                            {"latency_ms", t.latencyMs},
                            {"ratios", t.ratios},
                            {"seconds", t.seconds},
                            {"method", t.method},
                            {"stop_below", t.stopBelow},
                            {"groups", rows}};
  writeFileAtomically(path, [&](std::ostream& os) { os << j.dump(1) << "\n"; });
}

SensitivityTable readSensitivityJson(const std::string& path) {
  return withErrorContext(path, [&] {
    const nlohmann::json j =
        readJsonDocument(path, "prunelab-sensitivity-1", "a sensitivity table (prunelab-cli sensitivity --out)");
    try {
      SensitivityTable t;
      t.model = j.at("model").get<std::string>();
      t.metric = j.at("metric").get<std::string>();
      t.criterion = j.at("criterion").get<std::string>();
      t.valImages = jsonInt<int64_t>(j.at("val_images"));
      t.input = jsonInts<int64_t>(j.at("input"));
      t.baseline = j.at("baseline").get<double>();
      t.params = jsonInt<int64_t>(j.at("params"));
      t.macs = jsonInt<int64_t>(j.at("macs"));
      t.latencyMs = j.at("latency_ms").get<double>();
      t.ratios = j.at("ratios").get<std::vector<double>>();
      t.seconds = j.value("seconds", 0.0);
      t.method = j.value("method", std::string());  // older tables: surgery, every cell measured
      t.stopBelow = j.value("stop_below", 0.0);
      for (const auto& r : j.at("groups")) {
        SensitivityRow row;
        row.group = r.at("group").get<std::string>();
        row.channels = jsonInt<int64_t>(r.at("channels"));
        for (const auto& c : r.at("cells")) {
          SensitivityCell cell;
          cell.ratio = c.at("ratio").get<double>();
          cell.removed = jsonInt<int64_t>(c.at("removed"));
          cell.metric = c.at("metric").get<double>();
          cell.params = jsonInt<int64_t>(c.at("params"));
          cell.macs = jsonInt<int64_t>(c.at("macs"));
          cell.latencyMs = c.at("latency_ms").get<double>();
          cell.measured = c.value("measured", true);
          if (!std::isfinite(cell.ratio) || cell.ratio <= 0 || cell.ratio >= 1 || cell.macs < 0 || cell.macs > t.macs)
            throw Error(path, "group '" + row.group + "' has a cell out of range");
          row.cells.push_back(cell);
        }
        t.rows.push_back(std::move(row));
      }
      return t;
    } catch (const nlohmann::json::exception& e) {
      throw Error(path, std::string("malformed sensitivity table: ") + e.what());
    }
  });
}

SensitivityPlan planFromSensitivity(const SensitivityTable& table, const DependencyGraph& deps,
                                    const GroupScores& scores, int64_t targetMacs, const PlanConstraints& c) {
  const int64_t macs = estimateCost(deps, emptyPlan(deps)).macs;
  if (macs != table.macs)
    throw Error("--from-sensitivity", "the table was made on a model with " + std::to_string(table.macs) +
                                          " MACs, this one has " + std::to_string(macs));
  if (targetMacs <= 0 || targetMacs >= macs)
    throw Error("--target-macs", "must be between 0 and the model's " + std::to_string(macs));

  // For each swept group: its row and chosen cell (-1: not cut).
  struct Choice {
    int group = -1;
    const SensitivityRow* row = nullptr;
    int cell = -1;
  };
  std::vector<Choice> choices;
  const std::vector<std::string> keys = sensitivityKeys(deps);
  for (const Group& g : deps.groups()) {
    const SensitivityRow* row = table.row(keys[static_cast<size_t>(g.id)]);
    if (row && g.prunable() && scored(scores[static_cast<size_t>(g.id)])) choices.push_back({g.id, row, -1});
  }
  const auto drop = [&](const Choice& ch, int cell) {
    return cell < 0 ? 0.0 : std::max(0.0, table.baseline - ch.row->cells[static_cast<size_t>(cell)].metric);
  };
  const auto saved = [&](const Choice& ch, int cell) {
    return cell < 0 ? int64_t{0} : table.macs - ch.row->cells[static_cast<size_t>(cell)].macs;
  };
  SensitivityPlan out;
  out.plan = emptyPlan(deps);
  out.macs = macs;
  while (out.macs > targetMacs) {
    // The move with the least added predicted drop per MAC it saves (any higher ratio of
    // one group: a drop curve need not be convex, so the next ratio alone can mislead).
    int best = -1, bestCell = -1;
    double bestCost = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < choices.size(); ++i) {
      const Choice& ch = choices[i];
      for (int k = ch.cell + 1; k < static_cast<int>(ch.row->cells.size()); ++k) {
        const int64_t more = saved(ch, k) - saved(ch, ch.cell);
        if (more <= 0) continue;
        // Ties between drop-free moves go to the larger saving.
        const double cost = (drop(ch, k) - drop(ch, ch.cell) + 1e-9) / double(more);
        if (cost < bestCost) bestCost = cost, best = static_cast<int>(i), bestCell = k;
      }
    }
    if (best < 0)
      throw Error("--target-macs", "cannot reach " + std::to_string(targetMacs) + " MACs with the swept ratios (down to " +
                                       std::to_string(out.macs) + ")");
    Choice& ch = choices[static_cast<size_t>(best)];
    ch.cell = bestCell;
    const Group& g = deps.groups()[static_cast<size_t>(ch.group)];
    out.plan.removed[static_cast<size_t>(ch.group)] =
        chooseChannels(g, scores[static_cast<size_t>(ch.group)],
                       channelsForRatio(ch.row->cells[static_cast<size_t>(bestCell)].ratio, g.size), c);
    out.macs = estimateCost(deps, out.plan).macs;  // exact for the combined plan
  }
  for (const Choice& ch : choices) {
    if (ch.cell < 0) continue;
    out.ratios.emplace_back(ch.row->group, ch.row->cells[static_cast<size_t>(ch.cell)].ratio);
    out.predictedDrop += drop(ch, ch.cell);
  }
  if (c.fitWidths) {  // widths the model's definition can express: the cost moves with them
    c.fitWidths(deps, scores, out.plan);
    out.macs = estimateCost(deps, out.plan).macs;
  }
  return out;
}

}  // namespace prunelab
