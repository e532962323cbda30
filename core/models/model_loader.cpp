#include "models/model_loader.h"

#include <filesystem>

#include <ATen/ATen.h>

#include "analysis/shape_inference.h"
#include "io/checkpoint.h"
#include "io/onnx_import.h"
#include "io/state_dict.h"
#include "io/torch_pickle.h"
#include "io/torch_zip.h"
#include "io/yolo_pt_checkpoint.h"
#include "models/yolo/yolo_builder.h"
#include "models/yolo/yolo_checkpoint.h"
#include "models/zoo.h"
#include "util/error.h"

namespace prunelab {

namespace {

int64_t graphClasses(const Graph& g) {
  const auto it = g.metadata().find("num_classes");
  if (it == g.metadata().end()) return -1;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return -1;
  }
}

// TorchScript archives are zips with a data.pkl too, full of __torch__ classes.
void refuseTorchScript(const std::string& path) {
  if (TorchZipReader(path).hasRecord("constants.pkl"))
    throw Error(path, "is a TorchScript module; PruneLab reads torch.save() state_dicts and yolov5/ultralytics "
                      "training checkpoints (.pt), .plm and .onnx files");
}

// The model's ops' shape rules at the shapes its inputs already have: validation only
// (the shapes it sets are the ones the graph holds).
void checkStructure(Graph& g, const std::string& source) {
  withErrorContext(source, [&] {
    if (g.metadata().count("input")) parseShape(g.metadata().at("input"));  // the recorded default input
    std::vector<Shape> shapes;
    for (ValueId v : g.inputs()) shapes.push_back(g.value(v).shape);
    if (g.inputs().size() == 1 && shapes[0].empty()) {
      shapes[0] = {1};
      const Shape chw = defaultInputShape(g);
      shapes[0].insert(shapes[0].end(), chw.begin(), chw.end());
    }
    inferShapes(g, shapes);
  });
}

// "file: 2 of 120 tensors hold NaN/Inf values (layer1.0.bn1.weight: 3, fc.bias: 1)".
std::optional<std::string> nonFiniteWarning(const Graph& g, const std::string& source) {
  int64_t tensors = 0, bad = 0;
  std::string names;
  for (const Node& n : g.nodes())
    for (const NamedTensor& t : n.tensors) {
      ++tensors;
      if (!t.tensor.defined() || !t.tensor.is_floating_point()) continue;
      const int64_t count = (~at::isfinite(t.tensor)).sum().item<int64_t>();
      if (!count) continue;
      if (++bad <= 8) names += (names.empty() ? "" : ", ") + n.key(t.name) + ": " + std::to_string(count);
    }
  if (!bad) return std::nullopt;
  if (bad > 8) names += ", ...";
  return source + ": " + std::to_string(bad) + " of " + std::to_string(tensors) + " tensors hold NaN/Inf values (" + names +
         "); outputs and training will not be meaningful";
}

}  // namespace

std::vector<std::string> ModelLoadReport::lines() const {
  std::vector<std::string> r;
  if (!transfer) return r;
  std::string head = transfer->summary() + " from " + transferSource;
  if (sourceClasses > 0) head += " (its " + std::to_string(sourceClasses) + " classes differ from the model's)";
  r.push_back(head);
  for (const auto& s : transfer->skipped) r.push_back("  skipped " + s);
  return r;
}

void loadWeights(Graph& graph, const std::string& path, bool transfer, ModelLoadReport* report) {
  StateDict sd;
  int64_t fileClasses = -1;
  if (isCheckpointFile(path)) {
    const Checkpoint ck = loadCheckpoint(path);
    sd = ck.graph.stateDict();
    fileClasses = graphClasses(ck.graph);
  } else {
    if (std::filesystem::exists(path) && looksLikeZip(path)) refuseTorchScript(path);
    const PyRef root = readTorchPickle(path);
    if (auto ck = yoloCheckpointFromPickle(root, path)) {
      sd = std::move(ck->stateDict);
      fileClasses = ck->nc;
    } else {
      sd = stateDictFromPickle(root, path);
    }
  }
  const int64_t modelClasses = graphClasses(graph);
  if (transfer || (fileClasses > 0 && modelClasses > 0 && fileClasses != modelClasses)) {
    TransferReport r = transferStateDict(graph, sd, path);
    if (report) {
      report->transferSource = path;
      report->sourceClasses = fileClasses != modelClasses ? fileClasses : -1;
      report->transfer = std::move(r);
    }
  } else {
    try {
      loadStateDict(graph, sd, path);
    } catch (const Error& e) {
      throw Error(e.subject(), e.reason() + "\n  (--transfer copies only the tensors whose name and shape match)");
    }
  }
}

Graph loadModel(const ModelRequest& req, ModelLoadReport* report) {
  Graph g;
  if (isZooModel(req.model)) {
    ZooOptions opt;
    opt.numClasses = req.numClasses;
    opt.inChannels = req.inChannels > 0 ? req.inChannels : 3;
    opt.seed = req.seed;
    g = buildZooModel(req.model, opt);
  } else if (isYoloModelName(req.model) || (req.model.size() > 5 && req.model.rfind(".yaml") == req.model.size() - 5)) {
    YoloOptions yo;
    yo.nc = req.numClasses;
    if (req.inChannels > 0) yo.inChannels = req.inChannels;
    yo.scale = req.scale;
    g = isYoloModelName(req.model) ? buildYoloModel(req.model, yo) : buildYoloFromFile(req.model, yo);
  } else if (isOnnxPath(req.model)) {
    g = importOnnx(req.model, {}, report ? &report->warnings : nullptr);
  } else if (std::filesystem::exists(req.model)) {
    if (isCheckpointFile(req.model)) {
      g = loadCheckpoint(req.model).graph;
      if (req.numClasses > 0 && g.metadata().count("num_classes") &&
          std::to_string(req.numClasses) != g.metadata().at("num_classes"))
        throw Error(req.model, "has " + g.metadata().at("num_classes") + " classes, --num-classes says " +
                                   std::to_string(req.numClasses));
    } else if (looksLikeZip(req.model)) {
      refuseTorchScript(req.model);
      const PyRef root = readTorchPickle(req.model);
      const auto ck = yoloCheckpointFromPickle(root, req.model);
      if (!ck)
        throw Error(req.model, "holds a " + root->describe() +
                                   " without a pickled model (a plain state_dict?): give the architecture with --model "
                                   "and this file with --weights");
      std::optional<TransferReport> transfer;
      g = buildFromYoloCheckpoint(*ck, req.model, req.numClasses, &transfer);
      if (transfer && report) {
        report->transferSource = req.model;
        report->sourceClasses = ck->nc;
        report->transfer = std::move(transfer);
      }
    } else {
      throw Error(req.model, "not a model file PruneLab can read (expected a .plm checkpoint, an .onnx file or a "
                             "yolov5/ultralytics .pt checkpoint)");
    }
  } else {
    std::string known;
    for (const auto& e : zooModels()) known += (known.empty() ? "" : ", ") + e.name;
    throw Error(req.model, "no such file and not a built-in model (built-in: " + known +
                               ", yolov5n/s, yolov8n/s/m/l/x, yolo11n/s/m/l/x)");
  }
  if (!req.weights.empty()) loadWeights(g, req.weights, req.transfer, report);
  checkStructure(g, req.model);
  if (report)
    if (auto w = nonFiniteWarning(g, req.weights.empty() ? req.model : req.weights)) report->warnings.push_back(*w);
  return g;
}

}  // namespace prunelab
