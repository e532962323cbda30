// prunelab-cli latency-table: each Conv/Linear timed on this machine at the model's input
// for a grid of kept-channel fractions; `prune --target-latency` plans
// from it and the what-if predicts from it.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/shape_inference.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/model_options.h"
#include "exec/runtime.h"
#include "graph/input_shape.h"
#include "pruning/dependency_graph.h"
#include "pruning/planner.h"
#include "session/latency_command.h"
#include "session/session.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

// Who timed the whole model, for the summary line.
std::string wholeModelSource(const CommandLine& cl, const LatencyTable& t) {
  if (cl.has("--latency-cmd")) return "by --latency-cmd; layers by the executor at " + std::to_string(t.threads) + " threads";
  return std::to_string(t.threads) + " threads";
}

}  // namespace

int runLatencyTable(int argc, char** argv) {
  CommandLine cl("latency-table", "--model NAME|PATH --out t.json [--input CxHxW] [--batch N] [--latency-cmd CMD]");
  ModelArgs model;
  addModelOptions(cl, model);
  std::string input, outPath;
  int batch = 1;
  LatencyCommand command;
  CLI::App& a = cl.app();
  a.add_option("--input", input, "input size CxHxW")->type_name("CxHxW")->default_str("the model's");
  a.add_option("--batch", batch, "batch size the layers are timed at")->type_name("N")->capture_default_str();
  a.add_option("--out", outPath, "the table (JSON), for prune --latency-table")->type_name("FILE")->required();
  a.add_option("--latency-cmd", command.command,
               "time the whole model (as it is and at half width: the table's whole-model ms, hence its layer "
               "scale) with this command on the deploy target, {onnx} standing for the exported file (BN folded, "
               "static batch); the per-layer timings stay the executor's")
      ->type_name("CMD");
  a.add_option("--latency-timeout", command.timeoutSeconds, "seconds one run of --latency-cmd may take")
      ->type_name("S")
      ->capture_default_str();
  a.add_flag("--json", "print the table as JSON");
  if (!cl.parse(argc, argv)) return 0;
  if (batch < 1 || batch > 1024) throw Error("--batch", "must be between 1 and 1024, got " + std::to_string(batch));
  configureThreads(model.threads);
  Session session;
  session.loadModel(model.request);
  printLoadWarnings(session.lastLoadReport());
  LatencyTableRequest req;
  if (cl.has("--input")) req.input = parseShape(input);
  req.batch = batch;
  req.name = model.request.model;
  req.file = outPath;
  req.refresh = true;
  if (cl.has("--latency-cmd")) req.command = command;  // always measured afresh; the file is replaced only once the new table is complete
  ProgressLine progress(cl.has("--json"));
  progress.start("latency table");
  req.progress = [&progress](int done, int total, const std::string&) { progress.update(done, total, 0); };
  const LatencyTable t = session.latencyTable(req);
  progress.finish();
  if (cl.has("--json")) {
    std::ifstream in(outPath);
    std::cout << in.rdbuf();
    return 0;
  }
  double layers = 0;
  for (const LayerLatency& row : t.layers) layers += row.ms.back();
  std::printf("%-34s %9s %9s %9s %9s\n", "layer", "in x out", "ms full", "ms half", "share");
  for (const LayerLatency& row : t.layers) {
    const double full = row.ms.back();
    std::printf("%-34s %4lldx%-4lld %9.3f %9.3f %8.1f%%\n", row.node.c_str(), static_cast<long long>(row.inChannels),
                static_cast<long long>(row.outChannels), full, row.at(0.5, 0.5), layers > 0 ? 100 * full / layers : 0.0);
  }
  std::printf("\nwhole model %.2f ms (batch %d, %s; every group at half width: %.2f ms): layers %.2f ms x "
              "%.2f, other ops %.2f ms fixed + %.2f ms x activations kept\n",
              t.totalMs, t.batch, wholeModelSource(cl, t).c_str(), t.halfMs, layers, t.layerScale, t.fixedMs,
              t.activationMs);
  if (!t.probe.widths.empty()) {
    std::printf("widths of %s (ms):", t.probe.node.c_str());
    for (size_t i = 0; i < t.probe.widths.size(); ++i)
      std::printf(" %lld:%.3f", static_cast<long long>(t.probe.widths[i]), t.probe.ms[i]);
    if (t.suggestedRoundTo > 1)
      std::printf("\nlatency steps every %lld channels: --round-to %lld (or auto)\n",
                  static_cast<long long>(t.suggestedRoundTo), static_cast<long long>(t.suggestedRoundTo));
    else
      std::printf("\nno latency steps in these widths: --round-to 1 loses nothing\n");
  }
  std::printf("measured in %.1f s; saved %s\n", t.seconds, outPath.c_str());
  return 0;
}

}  // namespace prunelab::cli
