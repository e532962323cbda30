#include "train/run_log.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "util/atomic_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace prunelab {

namespace {
const std::vector<std::string> kHead = {"epoch", "train/loss"};
const std::vector<std::string> kClassify = {"train/top1", "val/loss", "val/top1", "val/top5"};
const std::vector<std::string> kTail = {"lr",           "sr",           "bn/gamma_mean", "bn/frac_lt_0.01",
                                        "bn/gamma_p10", "bn/gamma_p50", "bn/gamma_p90",  "time_s",
                                        "images_per_s"};

// CSV columns of a run: the common ones around the task's own (from its first row).
std::vector<std::string> columnsFor(const json& row) {
  std::vector<std::string> c = kHead;
  if (row.value("task", std::string("classify")) == "classify") {
    c.insert(c.end(), kClassify.begin(), kClassify.end());
  } else {
    c.push_back("val/loss");
    for (const auto& name : row.at("task_columns")) c.push_back(name.get<std::string>());
    c.push_back("fitness");
  }
  c.insert(c.end(), kTail.begin(), kTail.end());
  return c;
}

json toJson(const EpochStats& s) {
  json j = {{"epoch", s.epoch + 1}, {"task", s.task}, {"fitness", s.fitness},           {"train/loss", s.trainLoss},     {"train/top1", s.trainTop1},
          {"val/loss", s.valLoss},          {"val/top1", s.valTop1},         {"val/top5", s.valTop5},
          {"lr", s.lr},                     {"sr", s.sr},                    {"bn/gamma_mean", s.gamma.absMean},
          {"bn/frac_lt_0.01", s.gamma.fracBelow001}, {"bn/gamma_p10", s.gamma.p10}, {"bn/gamma_p50", s.gamma.p50},
          {"bn/gamma_p90", s.gamma.p90},    {"time_s", s.seconds},           {"images_per_s", s.imagesPerSec},
          {"data_wait", s.dataWaitFraction}, {"bn/gamma_p25", s.gamma.p25},    {"bn/gamma_p75", s.gamma.p75},   {"bn/gamma_max", s.gamma.maxAbs}};
  if (!s.taskMetrics.empty()) {
    json names = json::array();
    for (const auto& [name, value] : s.taskMetrics) {
      j[name] = value;
      names.push_back(name);
    }
    j["task_columns"] = names;
  }
  return j;
}
}  // namespace

std::string RunLog::csvHeader() { return csvHeader(json{{"task", "classify"}}.dump()); }

std::string RunLog::csvHeader(const std::string& firstRowJson) {
  const auto columns = columnsFor(json::parse(firstRowJson));
  std::string h;
  for (size_t i = 0; i < columns.size(); ++i) h += (i ? "," : "") + columns[i];
  return h;
}

void RunLog::open(const std::string& runDir, bool keepExisting) {
  m_dir = runDir;
  m_jsonRows.clear();
  m_epochs.clear();
  if (!keepExisting) return;
  std::ifstream in((fs::path(runDir) / "log.jsonl").string());
  std::string line;
  while (std::getline(in, line)) {
    try {
      const json j = json::parse(line);
      m_epochs.push_back(j.at("epoch").get<int>() - 1);
      m_jsonRows.push_back(line);
    } catch (const json::exception&) {
      // a foreign or damaged line: drop it
    }
  }
}

void RunLog::truncateAfter(int epoch) {
  while (!m_epochs.empty() && m_epochs.back() > epoch) {
    m_epochs.pop_back();
    m_jsonRows.pop_back();
  }
  flush();
}

void RunLog::append(const EpochStats& s) {
  truncateAfter(s.epoch - 1);
  m_epochs.push_back(s.epoch);
  m_jsonRows.push_back(toJson(s).dump());
  flush();
}

void RunLog::flush() const {
  if (m_dir.empty()) return;
  writeFileAtomically((fs::path(m_dir) / "log.jsonl").string(), [&](std::ostream& os) {
    for (const auto& r : m_jsonRows) os << r << "\n";
  });
  writeFileAtomically((fs::path(m_dir) / "results.csv").string(), [&](std::ostream& os) {
    if (m_jsonRows.empty()) return;
    os << csvHeader(m_jsonRows.front()) << "\n";
    const auto columns = columnsFor(json::parse(m_jsonRows.front()));
    for (const auto& r : m_jsonRows) {
      const json j = json::parse(r);
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i) os << ",";
        const auto& v = j.value(columns[i], json(0.0));
        if (v.is_number_integer()) os << v.get<long long>();
        else {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
          os << buf;
        }
      }
      os << "\n";
    }
  });
}

}  // namespace prunelab
