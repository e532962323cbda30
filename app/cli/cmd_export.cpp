// prunelab-cli export: native checkpoint, ONNX or TorchScript, checked after writing.
//
// Every export is verified before the command reports success: the written file is read
// back (ONNX: PruneLab's importer with its tags ignored, i.e. the generic ONNX path;
// TorchScript: torch::jit::load) and run on a random input beside the in-memory graph;
// the largest difference is printed (and is an error above 1e-3 relative). With --no-check
// there is no difference to print: JSON says null and the text "not checked", never a
// number a caller could mistake for a passed check.

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "exec/inference.h"
#include "exec/runtime.h"
#include "io/checkpoint.h"
#include "io/onnx_export.h"
#include "io/onnx_import.h"
#include "io/torchscript_export.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

std::string formatFromPath(const std::string& out) {
  const std::string ext = std::filesystem::path(out).extension().string();
  if (ext == ".onnx") return "onnx";
  if (ext == ".pt" || ext == ".ts" || ext == ".torchscript" || ext == ".ptl") return "torchscript";
  if (ext == ".plm") return "native";
  throw Error("--format", "not given and not implied by '" + out + "' (.onnx, .pt/.ts, .plm)");
}

// Largest |a - b| / max(1, |b|) over all outputs.
double relativeDiff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) throw Error("export check", "output counts differ");
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].sizes() != b[i].sizes()) throw Error("export check", "output " + std::to_string(i) + " shapes differ");
    const at::Tensor d = (a[i].to(at::kFloat) - b[i].to(at::kFloat)).abs() / b[i].to(at::kFloat).abs().clamp_min(1.0);
    worst = std::max(worst, d.max().item<double>());
  }
  return worst;
}

}  // namespace

int runExport(int argc, char** argv) {
  CommandLine cl("export", "--model NAME|PATH [--weights FILE] --format onnx|torchscript|native [--opset N] "
                           "[--fold-bn] --out FILE");
  ModelArgs model;
  addModelOptions(cl, model);
  OnnxExportOptions onnx;  // its defaults are the ones --help shows
  std::string format, out, input;
  CLI::App& a = cl.app();
  a.add_option("--format", format, "onnx, torchscript or native")->type_name("FMT")->default_str("from the --out extension");
  a.add_option("--out", out, "output file (.onnx, .pt, .plm)")->type_name("FILE")->required();
  a.add_option("--opset", onnx.opset, "ONNX opset, 13 to 17")->type_name("N")->capture_default_str();
  a.add_flag("--fold-bn", onnx.foldBn, "ONNX: fold each BatchNorm into the Conv before it (deployment form)");
  a.add_flag("--static-batch", "ONNX: fixed batch 1 instead of a dynamic batch dim");
  a.add_option("--input", input, "input size CxHxW to export at")->type_name("CxHxW")->default_str("the model's");
  a.add_flag("--no-check", "skip reading the file back and comparing outputs");
  a.add_flag("--json", "print a JSON summary");
  if (!cl.parse(argc, argv)) return 0;
  configureThreads(model.threads);
  if (!cl.has("--format")) format = formatFromPath(out);
  if (format != "onnx" && format != "torchscript" && format != "native")
    throw Error("--format", "'" + format + "' is not one of onnx, torchscript, native");

  ModelLoadReport loaded;
  Graph g = loadModel(model.request, &loaded);
  printLoadWarnings(loaded);
  const Shape chw = cl.has("--input") ? parseShape(input) : defaultInputShape(g);
  g.metadata()["input"] = shapeToString(chw);  // the exported model's own default input
  if (!std::filesystem::path(out).parent_path().empty()) std::filesystem::create_directories(std::filesystem::path(out).parent_path());

  if (format == "onnx") {
    onnx.dynamicBatch = !cl.has("--static-batch");
    exportOnnx(g, out, onnx, chw);
  } else if (format == "torchscript") {
    exportTorchScript(g, out, chw);
  } else {
    Checkpoint ck;
    ck.graph = g.clone();
    saveCheckpoint(out, ck);
  }

  std::optional<double> diff;  // empty: not checked
  if (!cl.has("--no-check")) {
    const int64_t batch = cl.has("--static-batch") ? 1 : 2;
    Shape in{batch};
    in.insert(in.end(), chw.begin(), chw.end());
    const at::Tensor x = at::randn(in, at::TensorOptions().dtype(at::kFloat));
    const std::vector<at::Tensor> expected = runInference(g, {x}, "cpu");
    std::vector<at::Tensor> got;
    if (format == "onnx") {
      OnnxImportOptions io;
      io.useTags = false;  // the generic path: what any other ONNX reader sees
      Graph back = importOnnx(out, io);
      got = runInference(back, {x}, "cpu");
    } else if (format == "torchscript") {
      torch::jit::Module m = torch::jit::load(out);
      m.eval();
      torch::NoGradGuard noGrad;
      const c10::IValue r = m.forward({x});
      if (r.isTuple()) {
        for (const auto& e : r.toTuple()->elements()) got.push_back(e.toTensor());
      } else {
        got.push_back(r.toTensor());
      }
    } else {
      Checkpoint back = loadCheckpoint(out);
      got = runInference(back.graph, {x}, "cpu");
    }
    diff = relativeDiff(got, expected);
    if (*diff > 1e-3) throw Error(out, "read back, its outputs differ from the model's by " + std::to_string(*diff));
  }

  const auto bytes = std::filesystem::file_size(out);
  const int64_t params = g.parameterCount();
  if (cl.has("--json")) {
    std::cout << nlohmann::json{{"out", out}, {"format", format}, {"bytes", bytes}, {"params", params},
                                {"input", shapeToString(chw)},
                                {"max_rel_diff", diff ? nlohmann::json(*diff) : nlohmann::json(nullptr)}}
                     .dump()
              << "\n";
  } else {
    std::cout << "wrote " << out << " (" << format << ", " << bytes / 1e6 << " MB, " << params << " params, input "
              << shapeToString(chw) << ")";
    if (diff) std::cout << "; read back and run: max relative difference " << *diff;
    else std::cout << "; read back: not checked (--no-check)";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace prunelab::cli
