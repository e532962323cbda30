#include "pruning/plan_log.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace prunelab {

std::vector<SurgeryLogEntry> logOfPlan(const DependencyGraph& deps, const PrunePlan& plan) {
  std::vector<SurgeryLogEntry> log;
  for (size_t g = 0; g < plan.removed.size(); ++g) {
    if (plan.removed[g].empty()) continue;
    const Group& group = deps.groups()[g];
    const Node& source = deps.graph().node(group.sources.front());
    const ValueId v = source.outputs[0];
    SurgeryLogEntry e;
    e.source = source.name;
    std::vector<bool> removed(static_cast<size_t>(group.size), false);
    for (int64_t k : plan.removed[g]) removed[k] = true;
    for (int64_t c = 0; c < deps.channelCount(v); ++c) {
      const auto [gg, k] = deps.locate(v, c);
      if (gg == static_cast<int>(g) && removed[k]) e.channels.push_back(c);
    }
    log.push_back(std::move(e));
  }
  return log;
}

PrunePlan planFromLog(const DependencyGraph& deps, const std::vector<SurgeryLogEntry>& log) {
  PrunePlan plan;
  plan.removed.resize(deps.groups().size());
  for (const auto& e : log) {
    const Node* n = deps.graph().findNode(e.source);
    if (!n) throw Error(e.source, "no such layer in this model (surgery log does not fit)");
    for (int64_t c : e.channels) {
      const auto [g, k] = deps.locate(n->outputs[0], c);
      if (g < 0) throw Error(e.source, "channel " + std::to_string(c) + " is not prunable in this model");
      plan.removed[g].push_back(k);
    }
  }
  for (auto& r : plan.removed) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
  return plan;
}

std::string surgeryLogJson(const std::vector<SurgeryLogEntry>& log) {
  nlohmann::json j = nlohmann::json::array();
  for (const SurgeryLogEntry& e : log) j.push_back({{"source", e.source}, {"channels", e.channels}});
  return j.dump();
}

std::vector<SurgeryLogEntry> surgeryLogFromJson(const std::string& text, const std::string& what) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) throw Error(what, "the surgery log is not a JSON array");
  std::vector<SurgeryLogEntry> log;
  for (const nlohmann::json& e : j) {
    if (!e.is_object() || !e.contains("source") || !e["source"].is_string() || !e.contains("channels") ||
        !e["channels"].is_array())
      throw Error(what, "a surgery log entry needs \"source\" (text) and \"channels\" (a list): " + e.dump());
    SurgeryLogEntry entry;
    entry.source = e["source"].get<std::string>();
    for (const nlohmann::json& c : e["channels"]) {
      if (!c.is_number_integer() || c.get<int64_t>() < 0)
        throw Error(what, "channel " + c.dump() + " of " + entry.source + " is not a channel index");
      entry.channels.push_back(c.get<int64_t>());
    }
    log.push_back(std::move(entry));
  }
  return log;
}

}  // namespace prunelab
