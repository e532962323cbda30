#include "report/story_manifest.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab {

// Ordered: story.json keeps "settings" in the order the report lists them.
using json = nlohmann::ordered_json;

std::vector<StoryManifestStage> storyStages() {
  return {{"original", "0-original.plm", "", -1.0, -1.0},
          {"sparse", "1-sparse.plm", "sparse", -1.0, -1.0},
          {"pruned", "2-pruned.plm", "", -1.0, -1.0},
          {"fine-tuned", "3-fine-tuned.plm", "fine-tune", -1.0, -1.0}};
}

void writeStoryManifest(const StoryManifest& m, const std::string& path) {
  json settings = json::object();
  for (const auto& [name, value] : m.settings) {
    const std::optional<double> x = parseNumber(value);
    settings[name] = x ? json(*x) : json(value);
  }
  json stages = json::array();
  for (const StoryManifestStage& s : m.stages) {
    json j = {{"name", s.name}, {"checkpoint", s.checkpoint}};
    if (!s.runDir.empty()) j["run_dir"] = s.runDir;
    if (s.metric >= 0) j["metric"] = s.metric;
    if (s.latencyMs >= 0) j["latency_ms"] = s.latencyMs;
    stages.push_back(j);
  }
  const json j = {{"format", "prunelab-story"},
                  {"version", 1},
                  {"created", m.created},
                  {"model", m.model},
                  {"data", m.data},
                  {"task", m.task},
                  {"metric", m.metric.empty() ? (m.task == "detect" ? "mAP50-95" : "top-1") : m.metric},
                  {"settings", settings},
                  {"commands", m.commands},
                  {"stages", stages}};
  writeFileAtomically(path, [&](std::ostream& os) { os << j.dump(1) << "\n"; });
}

StoryManifest readStoryManifest(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error(path, "no such file: not a story run directory");
  json j;
  try {
    std::ifstream in(path);
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path, std::string("malformed: ") + e.what());
  }
  StoryManifest m;
  try {
    m.created = j.value("created", "");
    m.model = j.value("model", "");
    m.data = j.value("data", "");
    m.task = j.value("task", "classify");
    m.metric = j.value("metric", m.task == "detect" ? "mAP50-95" : "top-1");
    // Named: items() of the temporary value() returns would outlive it (range-for keeps
    // only the items proxy alive).
    const json settings = j.value("settings", json::object());
    for (const auto& [k, v] : settings.items()) m.settings.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    for (const auto& c : j.value("commands", json::array())) m.commands.push_back(c.get<std::string>());
    for (const auto& s : j.at("stages")) {
      StoryManifestStage st;
      st.name = s.at("name").get<std::string>();
      st.checkpoint = s.at("checkpoint").get<std::string>();
      st.runDir = s.value("run_dir", "");
      st.metric = s.value("metric", -1.0);
      st.latencyMs = s.value("latency_ms", -1.0);
      m.stages.push_back(st);
    }
  } catch (const json::exception& e) {
    throw Error(path, std::string("malformed: ") + e.what());
  }
  if (m.stages.size() < 2) throw Error(path, "needs at least two stages");
  return m;
}

}  // namespace prunelab
