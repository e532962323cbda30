#include "models/model_loader.h"

#include <filesystem>

#include "io/checkpoint.h"
#include "io/onnx_import.h"
#include "io/state_dict.h"
#include "models/yolo/yolo_builder.h"
#include "models/zoo.h"
#include "util/error.h"

namespace prunelab {

void loadWeights(Graph& graph, const std::string& path) {
  if (isCheckpointFile(path)) {
    const Checkpoint ck = loadCheckpoint(path);
    loadStateDict(graph, ck.graph.stateDict(), path);
  } else {
    loadStateDict(graph, readTorchStateDict(path), path);
  }
}

Graph loadModel(const ModelRequest& req) {
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
    if (!isCheckpointFile(req.model))
      throw Error(req.model, "not a model file PruneLab can read (expected a .plm checkpoint or an .onnx file)");
    g = loadCheckpoint(req.model).graph;
    if (req.numClasses > 0 && g.metadata().count("num_classes") &&
        std::to_string(req.numClasses) != g.metadata().at("num_classes"))
      throw Error(req.model, "has " + g.metadata().at("num_classes") + " classes, --num-classes says " +
                                 std::to_string(req.numClasses));
  } else {
    std::string known;
    for (const auto& e : zooModels()) known += (known.empty() ? "" : ", ") + e.name;
    throw Error(req.model, "no such file and not a built-in model (built-in: " + known +
                               ", yolov5n/s, yolov8n/s/m/l/x, yolo11n/s/m/l/x)");
  }
  if (!req.weights.empty()) loadWeights(g, req.weights);
  return g;
}

}  // namespace prunelab
