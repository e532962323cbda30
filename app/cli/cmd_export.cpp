// prunelab-cli export: an adapter over session/model_export.h (exportModel writes the
// file and checks it read back; see there for what each format's check compares). With
// --no-check there is no difference to print: JSON says null and the text "not checked",
// never a number a caller could mistake for a passed check.

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/shape_inference.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "exec/runtime.h"
#include "io/checkpoint.h"
#include "pruning/plan_log.h"
#include "session/model_export.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

// "prune: 412 channels removed in 23 layers (from yolov8n.pt)" from a .plm's surgery log.
std::string planSummary(const std::string& model) {
  if (!std::filesystem::exists(model) || !isCheckpointFile(model)) return "";
  const Checkpoint ck = loadCheckpoint(model);
  const auto log = ck.info.find("surgery_log");
  if (log == ck.info.end()) return "";
  const std::vector<SurgeryLogEntry> entries = surgeryLogFromJson(log->second, model);
  size_t channels = 0;
  for (const SurgeryLogEntry& e : entries) channels += e.channels.size();
  std::string s = std::to_string(channels) + " channels removed in " + std::to_string(entries.size()) + " layers";
  if (ck.info.count("pruned_from")) s += " (from " + ck.info.at("pruned_from") + ")";
  return s;
}

}  // namespace

int runExport(int argc, char** argv) {
  CommandLine cl("export", "--model NAME|PATH [--weights FILE] --format FMT [--opset N] [--fold-bn] --out FILE");
  ModelArgs model;
  addModelOptions(cl, model);
  ExportRequest req;  // its ONNX defaults are the ones --help shows
  std::string input;
  CLI::App& a = cl.app();
  a.add_option("--format", req.format,
               "native, onnx, torchscript, or a .pt for the model's own stack: yolov5, ultralytics, torch "
               "(torchvision ResNet), pt (the family the model came from)")
      ->type_name("FMT")
      ->default_str("from the --out extension");
  a.add_option("--out", req.out, "output file (.plm, .onnx, .pt, .ts)")->type_name("FILE")->required();
  a.add_option("--opset", req.onnx.opset, "ONNX opset, 13 to 17")->type_name("N")->capture_default_str();
  a.add_flag("--fold-bn", req.onnx.foldBn, "ONNX: fold each BatchNorm into the Conv before it (deployment form)");
  a.add_flag("--static-batch", "ONNX: fixed batch 1 instead of a dynamic batch dim");
  a.add_option("--input", input, "input size CxHxW to export at")->type_name("CxHxW")->default_str("the model's");
  a.add_flag("--no-check", "skip reading the file back and comparing it with the model");
  a.add_flag("--json", "print a JSON summary");
  if (!cl.parse(argc, argv)) return 0;
  configureThreads(model.threads);

  ModelLoadReport loaded;
  Graph g = loadModel(model.request, &loaded);
  printLoadWarnings(loaded);
  if (cl.has("--input")) req.inputChw = parseShape(input);
  req.onnx.dynamicBatch = !cl.has("--static-batch");
  req.check = !cl.has("--no-check");
  req.plan = planSummary(model.request.model);
  const ExportResult r = exportModel(g, req);

  if (cl.has("--json")) {
    std::cout << nlohmann::json{{"out", r.out},
                                {"format", r.format},
                                {"bytes", r.bytes},
                                {"params", r.params},
                                {"input", shapeToString(r.inputChw)},
                                {"check", r.check},
                                {"write_s", r.writeSeconds},
                                {"yaml", r.yaml},
                                {"yaml_complete", r.yamlComplete},
                                {"max_rel_diff", r.maxRelDiff ? nlohmann::json(*r.maxRelDiff) : nlohmann::json(nullptr)}}
                     .dump()
              << "\n";
  } else {
    std::cout << "wrote " << r.out << " (" << r.format << ", " << r.bytes / 1e6 << " MB, " << r.params
              << " params, input " << shapeToString(r.inputChw) << ")";
    if (r.maxRelDiff) std::cout << "; " << r.check << ": max relative difference " << *r.maxRelDiff;
    else std::cout << "; read back: not checked (--no-check)";
    std::cout << "\n";
    if (!r.yaml.empty()) (r.yamlComplete ? std::cout : std::cerr) << r.yaml << "\n";
  }
  return 0;
}

}  // namespace prunelab::cli
