#include "report/story_report.h"
#include "report/story_manifest.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/latency.h"
#include "graph/input_shape.h"
#include "io/checkpoint.h"
#include "ops/op_table.h"
#include "train/bn_stats.h"
#include "util/error.h"

namespace prunelab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<float> allGammas(const Graph& g) {
  std::vector<float> all;
  for (const auto& layer : snapshotGammas(g).layers) all.insert(all.end(), layer.absGamma.begin(), layer.absGamma.end());
  return all;
}

// results.csv of a training run: one record per epoch.
std::vector<EpochRecord> readResults(const fs::path& csv, const std::string& stage, const std::string& metricColumn) {
  std::ifstream in(csv);
  if (!in) return {};
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) header.push_back(c);
  }
  auto col = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  };
  const int cEpoch = col("epoch"), cLoss = col("train/loss"), cMetric = col(metricColumn), cLr = col("lr/pg0"), cSr = col("sr"),
            cGamma = col("bn/gamma_mean");
  std::vector<EpochRecord> out;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
    // An empty cell is a value the run did not compute (e.g. no validation that epoch).
    auto num = [&](int c, double fallback) {
      if (c < 0 || c >= static_cast<int>(f.size()) || f[size_t(c)].empty()) return fallback;
      try {
        return std::stod(f[size_t(c)]);
      } catch (const std::exception&) {
        throw Error(csv.string(), "line " + std::to_string(out.size() + 2) + ": '" + f[size_t(c)] + "' is not a number");
      }
    };
    EpochRecord r;
    r.stage = stage;
    r.epoch = static_cast<int>(num(cEpoch, static_cast<double>(out.size() + 1)));
    r.trainLoss = num(cLoss, 0);
    r.metric = num(cMetric, -1);
    r.lr = num(cLr, 0);
    r.sr = num(cSr, 0);
    r.gammaMean = num(cGamma, 0);
    out.push_back(r);
  }
  return out;
}

}  // namespace

StoryReport collectStoryReport(const std::string& runDir, const ReportOptions& options) {
  const fs::path dir(runDir);
  const fs::path manifest = dir / "story.json";
  const StoryManifest m = readStoryManifest(manifest.string());
  StoryReport r;
  r.runDir = runDir;
  r.created = m.created;
  r.model = m.model;
  r.data = m.data;
  r.task = m.task;
  r.metricName = m.metric;
  r.settings = m.settings;
  r.commands = m.commands;
  try {
    std::vector<std::shared_ptr<Graph>> graphs;
    for (const StoryManifestStage& s : m.stages) {
      StageReport st;
      st.name = s.name;
      st.checkpoint = s.checkpoint;
      st.metric = s.metric;
      st.latencyMs = s.latencyMs;
      auto g = std::make_shared<Graph>(loadCheckpoint((dir / st.checkpoint).string()).graph);
      inferShapes(*g, defaultInputShape(*g));
      const GraphCost cost = computeCost(*g);
      st.params = cost.params;
      st.macs = cost.macs;
      st.sizeBytes = cost.sizeBytes;
      r.macsConvention = conventionName(cost.convention);
      if (!s.runDir.empty()) {
        // ultralytics' column names (train/run_log.h).
        const std::string column = r.task == "detect" ? "metrics/mAP50-95(B)" : "metrics/accuracy_top1";
        const auto e = readResults(dir / s.runDir / "results.csv", st.name, column);
        r.epochs.insert(r.epochs.end(), e.begin(), e.end());
      }
      r.stages.push_back(st);
      graphs.push_back(g);
    }
    if (graphs.size() < 2) throw Error(manifest.string(), "needs at least two stages");
    r.input = shapeToString(defaultInputShape(*graphs.front()));
    r.original = graphs.front();
    r.final = graphs.back();
    r.gammaOriginal = allGammas(*graphs.front());
    for (size_t i = 0; i < r.stages.size(); ++i)
      if (r.stages[i].name == "sparse") r.gammaSparse = allGammas(*graphs[i]);

    // Per-layer output channels, original -> final, by node name.
    for (const Node& n : graphs.front()->nodes()) {
      if (!opSpec(n.op).isChannelSource) continue;
      const int out = outChannelDim(n.op, "weight");
      LayerChange c{n.name, opKindName(n.op), n.tensor("weight").size(out), 0};
      if (const Node* f = graphs.back()->findNode(n.name)) c.after = f->tensor("weight").size(out);
      r.layers.push_back(c);
    }
    if (options.measureLatency && (r.stages.front().latencyMs < 0 || r.stages.back().latencyMs < 0)) {
      const auto [before, after] = measureLatencyPairMs(*graphs.front(), *graphs.back(), options.latencyIters);
      r.stages.front().latencyMs = before;
      r.stages.back().latencyMs = after;
    }
    const auto& md = graphs.front()->metadata();
    if (auto it = md.find("model"); it != md.end() && it->second != r.model)
      r.model = r.model.empty() ? it->second : it->second + " (" + r.model + ")";
  } catch (const json::exception& e) {
    throw Error(manifest.string(), std::string("malformed: ") + e.what());
  }
  return r;
}

}  // namespace prunelab
