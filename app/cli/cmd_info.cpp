// prunelab-cli info: per-layer table and totals.

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "exec/runtime.h"
#include "models/yolo/yolo_checkpoint.h"

namespace prunelab::cli {

namespace {

std::string human(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fK", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

int runInfo(int argc, char** argv) {
  CommandLine cl("info", "--model NAME|PATH [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  std::string input;
  cl.app().add_option("--input", input, "input size CxHxW")->type_name("CxHxW")->default_str("the model's");
  cl.app().add_flag("--json", "print JSON instead of a table");
  if (!cl.parse(argc, argv)) return 0;
  ModelLoadReport loaded;
  Graph g = loadModel(model.request, &loaded);
  printLoadWarnings(loaded);
  const std::vector<std::string> names = classNames(g);
  const Shape shape = cl.has("--input") ? parseShape(input) : defaultInputShape(g);
  inferShapes(g, shape);
  const GraphCost cost = computeCost(g);

  if (cl.has("--json")) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : cost.layers)
      layers.push_back({{"name", l.name}, {"op", l.op}, {"output_shape", l.outputShape}, {"params", l.params},
                        {"macs", l.macs}});
    nlohmann::json j = {{"model", g.metadata().count("model") ? g.metadata().at("model") : model.request.model},
                              {"input", shape},
                              {"params", cost.params},
                              {"buffers", cost.buffers},
                              {"macs", cost.macs},
                              {"macs_convention", conventionName(cost.convention)},
                              {"gflops", 2.0 * static_cast<double>(cost.macs) / 1e9},
                              {"size_mb", static_cast<double>(cost.sizeBytes) / 1e6},
                              {"layers", layers}};
    if (!names.empty()) j["names"] = names;
    if (g.metadata().count("source")) j["source"] = g.metadata().at("source");
    if (loaded.transfer) {
      j["transferred"] = loaded.transfer->transferred;
      j["transfer_total"] = loaded.transfer->total;
    }
    std::cout << j.dump(1) << "\n";
    return 0;
  }
  std::printf("%-34s %-14s %-18s %12s %12s\n", "layer", "op", "output", "params", "MACs");
  for (const auto& l : cost.layers)
    std::printf("%-34s %-14s %-18s %12lld %12lld\n", l.name.c_str(), l.op.c_str(), shapeToString(l.outputShape).c_str(),
                static_cast<long long>(l.params), static_cast<long long>(l.macs));
  std::printf("\ninput %s: %lld params (%s), %s MACs (%.3f GFLOPs, %s count), %.2f MB\n", shapeToString(shape).c_str(),
              static_cast<long long>(cost.params), human(static_cast<double>(cost.params)).c_str(),
              human(static_cast<double>(cost.macs)).c_str(), 2.0 * static_cast<double>(cost.macs) / 1e9,
              conventionName(cost.convention), static_cast<double>(cost.sizeBytes) / 1e6);
  if (g.metadata().count("source")) std::printf("from %s\n", g.metadata().at("source").c_str());
  if (!names.empty()) {
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + std::to_string(i) + ": " + names[i];
    std::printf("classes (%zu): %s\n", names.size(), list.c_str());
  }
  for (const std::string& line : loaded.lines()) std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace prunelab::cli
