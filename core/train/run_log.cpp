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
const std::vector<std::string> kColumns = {
    "epoch",        "train/loss",   "train/top1",    "val/loss",      "val/top1",     "val/top5",
    "lr",           "sr",           "bn/gamma_mean", "bn/frac_lt_0.01", "bn/gamma_p10", "bn/gamma_p50",
    "bn/gamma_p90", "time_s",       "images_per_s"};

json toJson(const EpochStats& s) {
  return {{"epoch", s.epoch + 1},           {"train/loss", s.trainLoss},     {"train/top1", s.trainTop1},
          {"val/loss", s.valLoss},          {"val/top1", s.valTop1},         {"val/top5", s.valTop5},
          {"lr", s.lr},                     {"sr", s.sr},                    {"bn/gamma_mean", s.gamma.absMean},
          {"bn/frac_lt_0.01", s.gamma.fracBelow001}, {"bn/gamma_p10", s.gamma.p10}, {"bn/gamma_p50", s.gamma.p50},
          {"bn/gamma_p90", s.gamma.p90},    {"time_s", s.seconds},           {"images_per_s", s.imagesPerSec},
          {"data_wait", s.dataWaitFraction}, {"bn/gamma_p25", s.gamma.p25},    {"bn/gamma_p75", s.gamma.p75},   {"bn/gamma_max", s.gamma.maxAbs}};
}
}  // namespace

std::string RunLog::csvHeader() {
  std::string h;
  for (size_t i = 0; i < kColumns.size(); ++i) h += (i ? "," : "") + kColumns[i];
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
    os << csvHeader() << "\n";
    for (const auto& r : m_jsonRows) {
      const json j = json::parse(r);
      for (size_t i = 0; i < kColumns.size(); ++i) {
        if (i) os << ",";
        const auto& v = j.at(kColumns[i]);
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
