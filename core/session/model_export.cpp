#include "session/model_export.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "interop/trainer_checkpoint.h"
#include "io/checkpoint.h"
#include "io/onnx_import.h"
#include "io/torchscript_export.h"
#include "models/model_loader.h"
#include "passes/fold_batchnorm.h"
#include "util/error.h"

namespace prunelab {

namespace {

// Largest |a - b| / max(1, |b|) over all outputs.
double relativeDiff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b, const std::string& out) {
  if (a.size() != b.size()) throw Error(out, "read back, it gives " + std::to_string(a.size()) + " outputs, the model " +
                                                 std::to_string(b.size()));
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].sizes() != b[i].sizes()) throw Error(out, "read back, output " + std::to_string(i) + "'s shape differs");
    const at::Tensor y = b[i].to(at::kFloat);
    const at::Tensor d = (a[i].to(at::kFloat) - y).abs() / y.abs().clamp_min(1.0);
    if (d.numel()) worst = std::max(worst, d.max().item<double>());
  }
  return worst;
}

std::vector<at::Tensor> runTorchScript(const std::string& path, const at::Tensor& x) {
  torch::jit::Module m = torch::jit::load(path);
  m.eval();
  torch::NoGradGuard noGrad;
  const c10::IValue r = m.forward({x});
  std::vector<at::Tensor> got;
  if (r.isTuple()) {
    for (const auto& e : r.toTuple()->elements()) got.push_back(e.toTensor());
  } else {
    got.push_back(r.toTensor());
  }
  return got;
}

// The .pt formats: widths against tensors, then the weights (yolov5/ultralytics: the
// model rebuilt from the file and run; torch: its tensors against the model's).
double checkTrainerCheckpoint(const Graph& g, const std::string& out, PtFormat format, const at::Tensor& x,
                              std::string& what) {
  const PtReadBack back = readTrainerCheckpoint(out);
  if (!back.problems.empty()) {
    std::string list;
    for (const auto& p : back.problems) list += "\n  " + p;
    throw Error(out, "read back, width attributes disagree with their tensors:" + list);
  }
  std::map<std::string, at::Tensor> file(back.stateDict.begin(), back.stateDict.end());
  if (format != PtFormat::Torch) {
    ModelRequest r;
    r.model = out;
    Graph reread = loadModel(r);
    // The trainers keep fp16 weights: the model is compared with its own weights rounded
    // to the file's dtypes, so that the bound stays tight after fine-tuning in fp32.
    Graph rounded = g.clone();
    for (Node& n : rounded.nodes())
      for (NamedTensor& t : n.tensors)
        if (const auto it = file.find(n.key(t.name)); it != file.end() && t.tensor.is_floating_point())
          t.tensor = t.tensor.to(it->second.scalar_type()).to(t.tensor.scalar_type());
    what = "rebuilt from the file and run; widths of every layer checked";
    return relativeDiff(runInference(reread, {x}, "cpu"), runInference(rounded, {x}, "cpu"), out);
  }
  double worst = 0;
  for (const auto& [k, t] : g.stateDict()) {
    const auto it = file.find(k);
    if (it == file.end()) throw Error(out, "read back, it has no tensor " + k);
    if (it->second.sizes() != t.sizes()) throw Error(out, "read back, " + k + " has another shape");
    if (t.numel() && t.is_floating_point())
      worst = std::max(worst, ((it->second.to(at::kDouble) - t.to(at::kDouble)).abs() /
                               t.to(at::kDouble).abs().clamp_min(1.0)).max().item<double>());
  }
  if (file.size() != g.stateDict().size()) throw Error(out, "read back, it has tensors the model does not");
  what = "every tensor and width attribute compared with the model";
  return worst;
}

}  // namespace

const std::vector<std::string>& exportFormats() {
  static const std::vector<std::string> f = {"native", "onnx", "torchscript", "pt", "yolov5", "ultralytics", "torch"};
  return f;
}

std::string exportFormatFromPath(const Graph& graph, const std::string& out) {
  const std::string ext = std::filesystem::path(out).extension().string();
  if (ext == ".onnx") return "onnx";
  if (ext == ".ts" || ext == ".torchscript" || ext == ".ptl") return "torchscript";
  if (ext == ".pt" || ext == ".pth")
    return ptFormatUnavailable(graph, homeFormat(graph)).empty() ? ptFormatName(homeFormat(graph)) : "torchscript";
  if (ext == ".plm") return "native";
  throw Error("--format", "not given and not implied by '" + out + "' (.onnx, .pt, .ts, .plm)");
}

ExportResult exportModel(const Graph& source, const ExportRequest& req) {
  ExportResult r;
  r.out = req.out;
  r.format = req.format.empty() ? exportFormatFromPath(source, req.out) : req.format;
  if (r.format == "pt") r.format = ptFormatName(homeFormat(source));
  const std::optional<PtFormat> pt = parsePtFormat(r.format);
  if (!pt && r.format != "onnx" && r.format != "torchscript" && r.format != "native")
    throw Error("--format", "'" + r.format + "' is not one of native, onnx, torchscript, pt, yolov5, ultralytics, torch");

  Graph g = source.share();
  r.inputChw = req.inputChw.empty() ? defaultInputShape(g) : req.inputChw;
  g.metadata()["input"] = shapeToString(r.inputChw);  // the exported model's own default input
  const std::filesystem::path parent = std::filesystem::path(req.out).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw Error(parent.string(), "cannot create the output folder: " + ec.message());
  }

  const auto start = std::chrono::steady_clock::now();
  if (r.format == "onnx") {
    exportOnnx(g, req.out, req.onnx, r.inputChw);
  } else if (r.format == "torchscript") {
    exportTorchScript(g, req.out, r.inputChw);
  } else if (r.format == "native") {
    Checkpoint ck;
    ck.graph = g.clone();
    saveCheckpoint(req.out, ck);
  } else {
    PtWriteOptions o;
    o.plan = req.plan;
    const PtWriteReport written = writeTrainerCheckpoint(g, req.out, *pt, o);
    r.yaml = written.yaml;
    r.yamlComplete = written.yamlComplete;
  }
  r.writeSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (req.check) {
    const int64_t batch = r.format == "onnx" && !req.onnx.dynamicBatch ? std::max(1, req.onnx.batch) : 2;
    Shape in{batch};
    in.insert(in.end(), r.inputChw.begin(), r.inputChw.end());
    const at::Tensor x = at::randn(in, at::TensorOptions().dtype(at::kFloat));
    // The model's own outputs (the .pt formats and a folded ONNX compare with other references).
    auto expected = [&] { return runInference(g, {x}, "cpu"); };
    if (r.format == "onnx") {
      OnnxImportOptions io;
      io.useTags = false;  // the generic path: what any other ONNX reader sees
      Graph back = importOnnx(req.out, io);
      // A folded export is compared with the folded model it wrote: folding moves float32
      // round-off (a BN with a tiny running variance scales its conv's weights up), which
      // is the fold's, not the file's.
      Graph written = req.onnx.foldBn ? passes::foldBatchNorm(g) : g.share();
      r.maxRelDiff = relativeDiff(runInference(back, {x}, "cpu"),
                                  req.onnx.foldBn ? runInference(written, {x}, "cpu") : expected(), req.out);
      r.check = req.onnx.foldBn ? "read back by the generic ONNX importer and run beside the BN-folded model"
                                : "read back by the generic ONNX importer and run";
    } else if (r.format == "torchscript") {
      r.maxRelDiff = relativeDiff(runTorchScript(req.out, x), expected(), req.out);
      r.check = "loaded with torch::jit::load and run";
    } else if (r.format == "native") {
      Graph back = loadCheckpoint(req.out).graph;
      r.maxRelDiff = relativeDiff(runInference(back, {x}, "cpu"), expected(), req.out);
      r.check = "read back and run";
    } else {
      r.maxRelDiff = checkTrainerCheckpoint(g, req.out, *pt, x, r.check);
    }
    if (*r.maxRelDiff > 1e-3)
      throw Error(req.out, "read back, its outputs differ from the model's by " + std::to_string(*r.maxRelDiff));
  }
  r.bytes = std::filesystem::file_size(req.out);
  r.params = g.parameterCount();
  return r;
}

}  // namespace prunelab
