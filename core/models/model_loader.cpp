#include "models/model_loader.h"

#include <filesystem>

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
    g = importOnnx(req.model);
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
  return g;
}

}  // namespace prunelab
