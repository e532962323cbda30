#include "train/run_log.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/json_read.h"
#include "util/atomic_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace prunelab {

namespace {

const std::vector<std::string> kOwnClassify = {"train/top1"};
const std::vector<std::string> kOwnDetect = {"train/loss", "val/loss", "fitness"};
const std::vector<std::string> kOwnTail = {"sr",           "sparse_fraction", "sparse_target", "bn/gamma_mean",
                                           "bn/frac_lt_0.01", "bn/gamma_p10", "bn/gamma_p50", "bn/gamma_p90",
                                           "time_s",       "images_per_s"};

// The log.jsonl key a CSV column reads: ultralytics' names map onto PruneLab's.
std::string keyFor(const std::string& column) {
  if (column.rfind("lr/pg", 0) == 0) return "lr";
  if (column == "metrics/accuracy_top1") return "val/top1";
  if (column == "metrics/accuracy_top5") return "val/top5";
  const std::string box = "(B)";
  if (column.size() > box.size() && column.compare(column.size() - box.size(), box.size(), box) == 0)
    return column.substr(0, column.size() - box.size());
  return column;
}

json toJson(const EpochStats& s) {
  json j = {{"epoch", s.epoch + 1},
            {"task", s.task},
            {"validated", s.validated},
            {"train/loss", s.trainLoss},
            {"train/top1", s.trainTop1},
            {"lr", s.lr},
            {"sr", s.sr},
            {"bn/gamma_mean", s.gamma.absMean},
            {"bn/frac_lt_0.01", s.gamma.fracBelow001},
            {"bn/gamma_p10", s.gamma.p10},
            {"bn/gamma_p50", s.gamma.p50},
            {"bn/gamma_p90", s.gamma.p90},
            {"time_s", s.seconds},
            {"images_per_s", s.imagesPerSec},
            {"data_wait", s.dataWaitFraction},
            {"bn/gamma_p25", s.gamma.p25},
            {"bn/gamma_p75", s.gamma.p75},
            {"bn/gamma_max", s.gamma.maxAbs},
            {"sparse_fraction", s.sparseFraction},
            {"sparse_threshold", s.sparseThreshold}};
  if (s.sparseTarget >= 0) j["sparse_target"] = s.sparseTarget;  // only while the autopilot steers
  if (s.validated) {
    j["fitness"] = s.fitness;
    j["val/loss"] = s.valLoss;
    if (s.task == "classify") {
      j["val/top1"] = s.valTop1;
      j["val/top5"] = s.valTop5;
    }
  }
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

void writeCell(std::ostream& os, const json& row, const std::string& column) {
  const auto it = row.find(keyFor(column));
  if (it == row.end() || !it->is_number()) return;  // not computed: an empty cell
  if (it->is_number_integer()) {
    os << it->get<long long>();
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", it->get<double>());
  os << buf;
}

}  // namespace

std::vector<std::string> RunLog::csvColumns(const std::string& task, bool objectness) {
  std::vector<std::string> c;
  if (task == "detect") {
    const std::string mid = objectness ? "obj" : "dfl";
    c = {"epoch",
         "time",
         "train/box_loss",
         "train/cls_loss",
         "train/" + mid + "_loss",
         "metrics/precision(B)",
         "metrics/recall(B)",
         "metrics/mAP50(B)",
         "metrics/mAP50-95(B)",
         "val/box_loss",
         "val/cls_loss",
         "val/" + mid + "_loss",
         "lr/pg0",
         "lr/pg1",
         "lr/pg2"};
    c.insert(c.end(), kOwnDetect.begin(), kOwnDetect.end());
  } else {
    c = {"epoch", "time", "train/loss", "metrics/accuracy_top1", "metrics/accuracy_top5", "val/loss", "lr/pg0", "lr/pg1", "lr/pg2"};
    c.insert(c.end(), kOwnClassify.begin(), kOwnClassify.end());
  }
  c.insert(c.end(), kOwnTail.begin(), kOwnTail.end());
  return c;
}

std::vector<std::string> RunLog::csvColumns(const std::string& firstRowJson) {
  const json row = json::parse(firstRowJson);
  std::vector<std::string> c = csvColumns(row.value("task", std::string("classify")), row.contains("train/obj_loss"));
  // A distilled run: its loss parts last (train/loss is what was optimised).
  for (const char* extra : {"train/ce_loss", "train/kd_loss"})
    if (row.contains(extra)) c.push_back(extra);
  return c;
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
      const int epoch = jsonInt<int>(j.at("epoch"));  // 1-based in the file
      if (epoch < 1) continue;
      m_epochs.push_back(epoch - 1);
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
    const auto columns = csvColumns(m_jsonRows.front());
    for (size_t i = 0; i < columns.size(); ++i) os << (i ? "," : "") << columns[i];
    os << "\n";
    double elapsed = 0.0;  // ultralytics' "time": seconds since training started, at the epoch's end
    for (const auto& r : m_jsonRows) {
      json j = json::parse(r);
      elapsed += j.value("time_s", 0.0);
      j["time"] = elapsed;
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i) os << ",";
        writeCell(os, j, columns[i]);
      }
      os << "\n";
    }
  });
}

}  // namespace prunelab
