#pragma once
// A story run, summarised for the stakeholder report: what "Run the whole story" (GUI,
// `prunelab --story`) leaves in its run directory, read back into plain values.
//
// Run directory layout (written by the workbench, read here):
//   story.json           model, data, task, metric name, settings, reproducing commands,
//                        and per stage its checkpoint and measured metric
//   0-original.plm       the model as opened
//   1-sparse.plm         after sparse training        sparse/     its training run (results.csv)
//   2-pruned.plm         after the cut
//   3-fine-tuned.plm     after fine-tuning            fine-tune/  its training run
//   pruned.onnx          the deployable export
// Costs (params, MACs, size) and per-layer channels come from the checkpoints, BN-gamma
// values from the original and sparse checkpoints, curves from the runs' results.csv;
// latencies are measured here (batch 1) unless `measureLatency` is false.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct StageReport {
  std::string name;        // original, sparse, pruned, fine-tuned
  std::string checkpoint;  // file name in the run directory
  int64_t params = 0, macs = 0, sizeBytes = 0;
  double latencyMs = -1.0;  // < 0: not measured
  double metric = -1.0;     // top-1 or mAP50-95 (0..1); < 0: unknown
};

struct LayerChange {
  std::string name, op;
  int64_t before = 0, after = 0;  // output channels
};

struct EpochRecord {
  std::string stage;  // "sparse" or "fine-tune"
  int epoch = 0;      // 1-based within its stage
  double trainLoss = 0, metric = -1, lr = 0, sr = 0, gammaMean = 0;
};

struct StoryReport {
  std::string runDir, created, model, data, task, metricName, input, macsConvention;
  std::vector<StageReport> stages;  // in story order
  std::vector<LayerChange> layers;  // Conv/Linear layers of the original, with the final counts
  std::vector<float> gammaOriginal, gammaSparse;  // |gamma| of every BN channel
  std::vector<EpochRecord> epochs;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<std::string> commands;  // prunelab-cli lines that reproduce the run
  std::shared_ptr<const Graph> original, final;  // structure for the network picture (shapes inferred)
};

struct ReportOptions {
  bool measureLatency = true;
  int latencyIters = 31;  // per model, measured alternately (exec/latency.h)
};

// Throws prunelab::Error naming the file when story.json or a checkpoint is missing or bad.
StoryReport collectStoryReport(const std::string& runDir, const ReportOptions& options = {});

}  // namespace prunelab
