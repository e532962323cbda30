#include "cli/commands.h"

#include "util/error.h"

namespace prunelab::cli {

namespace {

#ifndef PRUNELAB_HAVE_REPORT
int reportUnavailable(int, char**) {
  throw Error("report", "this prunelab-cli was built without the GUI libraries (PRUNELAB_BUILD_GUI=OFF)");
}
#endif

}  // namespace

const std::vector<Command>& commandTable() {
  static const std::vector<Command> table = {
      {"info", "per-layer table and totals (params, MACs, size) of a model", runInfo},
      {"infer", "run a model on a .npy input and write .npy outputs", runInfer},
      {"train", "train, sparse-train (--sr) or fine-tune a classifier or detector; resumable", runTrain},
      {"eval", "top-1/top-5 of a classifier or mAP of a detector on the validation split", runEval},
      {"predict", "a detector on images or a folder: annotated images and YOLO-format labels", runPredict},
      {"sensitivity", "prune each layer group alone at several ratios: metric, MACs, latency per cut", runSensitivity},
      {"latency-table", "time each Conv/Linear at a grid of widths: the table prune --target-latency plans from", runLatencyTable},
      {"prune", "dependency-aware channel pruning: score, plan, cut, verify", runPrune},
      {"export", "write a model as ONNX, TorchScript or a native checkpoint, then check it", runExport},
#ifdef PRUNELAB_HAVE_REPORT
      {"report", "HTML or PDF report of a story run directory", runReport},
#else
      {"report", "HTML or PDF report of a story run directory (GUI builds only)", reportUnavailable},
#endif
      {"make-dataset", "write the built-in detection dataset, fashion-det (YOLO format)", runMakeDataset},
  };
  return table;
}

std::string commandSummary(const std::string& name) {
  for (const Command& c : commandTable())
    if (name == c.name) return c.summary;
  return {};
}

}  // namespace prunelab::cli
