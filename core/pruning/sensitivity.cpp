#include "pruning/sensitivity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "exec/latency.h"
#include "io/json_read.h"
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

namespace {

PrunePlan onlyGroup(const DependencyGraph& deps, int group, std::vector<int64_t> removed) {
  PrunePlan p = emptyPlan(deps);
  p.removed.at(static_cast<size_t>(group)) = std::move(removed);
  return p;
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
  if (o.ratios.empty()) throw Error("--ratios", "needs at least one ratio");
  for (double r : o.ratios)
    if (!std::isfinite(r) || r <= 0.0 || r >= 1.0) throw Error("--ratios", "each ratio must be in (0, 1), got " + std::to_string(r));
  SensitivityTable t;
  t.criterion = criterionName(o.importance.criterion);
  t.input = input;
  t.ratios = o.ratios;
  const DependencyGraph deps(model);
  const GroupScores scores = computeImportance(deps, o.importance);
  const GraphCost base = computeCost(model);
  t.params = base.params;
  t.macs = base.macs;
  auto original = std::make_shared<Graph>(model.share());
  t.baseline = metric(original);
  if (o.latency) t.latencyMs = measureLatencyMs(*original, o.latencyIters);

  const std::vector<std::string> keys = sensitivityKeys(deps);
  std::vector<int> groups;
  for (const Group& g : deps.groups())
    if (g.prunable() && scored(scores[static_cast<size_t>(g.id)])) groups.push_back(g.id);
  const int total = static_cast<int>(groups.size() * o.ratios.size());
  int done = 0;
  SurgeryOptions so;
  so.forwardCheck = false;  // the metric runs the model anyway
  for (int gid : groups) {
    const Group& g = deps.groups()[static_cast<size_t>(gid)];
    SensitivityRow row;
    row.group = keys[static_cast<size_t>(gid)];
    row.channels = g.size;
    for (double ratio : o.ratios) {
      SensitivityCell cell;
      cell.ratio = ratio;
      std::vector<int64_t> removed =
          chooseChannels(g, scores[static_cast<size_t>(gid)], channelsForRatio(ratio, g.size), o.constraints);
      cell.removed = static_cast<int64_t>(removed.size());
      if (removed.empty()) {  // the constraints keep the whole group at this ratio
        cell.metric = t.baseline;
        cell.params = t.params;
        cell.macs = t.macs;
        cell.latencyMs = t.latencyMs;
      } else {
        const PrunePlan plan = onlyGroup(deps, gid, std::move(removed));
        const CostEstimate cost = estimateCost(deps, plan);
        cell.params = cost.params;
        cell.macs = cost.macs;
        auto cut = std::make_shared<Graph>(applySurgery(deps, plan, so).graph);
        cell.metric = metric(cut);
        if (o.latency) cell.latencyMs = measureLatencyMs(*cut, o.latencyIters);
      }
      row.cells.push_back(cell);
      ++done;
      if (progress && !progress(done, total, row.group, ratio)) {
        t.rows.push_back(std::move(row));
        t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return t;
      }
    }
    t.rows.push_back(std::move(row));
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

void writeSensitivityJson(const SensitivityTable& t, const std::string& path) {
  nlohmann::json rows = nlohmann::json::array();
  for (const SensitivityRow& r : t.rows) {
    nlohmann::json cells = nlohmann::json::array();
    for (const SensitivityCell& c : r.cells)
      cells.push_back({{"ratio", c.ratio},   {"removed", c.removed}, {"metric", c.metric},
                       {"params", c.params}, {"macs", c.macs},       {"latency_ms", c.latencyMs}});
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
