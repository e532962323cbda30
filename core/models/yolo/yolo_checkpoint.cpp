#include "models/yolo/yolo_checkpoint.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "io/torch_save.h"
#include "models/yolo/yolo_builder.h"
#include "pruning/shape_fit.h"
#include "util/error.h"

namespace prunelab {

Graph buildFromYoloCheckpoint(const YoloPtCheckpoint& ck, const std::string& path, int64_t nc,
                              std::optional<TransferReport>* transfer) {
  YoloOptions o;
  o.nc = nc > 0 ? nc : ck.nc;
  o.scale = ck.scale;
  o.inChannels = ck.inChannels;
  Graph g = buildYoloFromYaml(ck.yamlText, path, o);
  const bool otherClasses = nc > 0 && ck.nc > 0 && nc != ck.nc;
  // A pruned checkpoint (PruneLab's own export, or another pruner's) keeps the yaml of the
  // full model: cut the built graph to the file's widths before loading.
  if (!otherClasses && !shapesMatch(g, ck.stateDict)) g = fitToStateDict(g, ck.stateDict, path);
  if (otherClasses) {
    YoloOptions own = o;
    own.nc = ck.nc;
    own.randomInit = false;
    if (!shapesMatch(buildYoloFromYaml(ck.yamlText, path, own), ck.stateDict))
      throw Error(path, "is a pruned checkpoint of " + std::to_string(ck.nc) + " classes; it cannot be rebuilt for " +
                            std::to_string(nc) + " classes (open it with its own classes, or prune after the transfer)");
  }
  if (otherClasses) {
    TransferReport r = transferStateDict(g, ck.stateDict, path);
    if (transfer) *transfer = std::move(r);
  } else {
    loadStateDict(g, ck.stateDict, path);
  }
  // Names belong to the checkpoint's classes: kept when they still describe the model.
  if (!otherClasses && static_cast<int64_t>(ck.names.size()) == o.nc) setClassNames(g, ck.names);
  g.metadata()["model"] = std::filesystem::path(path).stem().string();
  g.metadata()["source"] = path + " (" + ck.family + " " + ck.modelClass + ", '" + ck.taken + "')";
  // The object tree, for writing the model back in its trainer's format (interop/).
  if (ck.model) {
    g.metadata()[kPtFamilyKey] = ck.family;
    g.metadata()[kPtTemplateKey] = packPyTree(trainerCheckpointTemplate(ck));
  }
  return g;
}

std::vector<std::string> classNames(const Graph& graph) {
  const auto it = graph.metadata().find("names");
  if (it == graph.metadata().end()) return {};
  const nlohmann::json j = nlohmann::json::parse(it->second, nullptr, false);
  std::vector<std::string> r;
  if (!j.is_array()) return r;
  for (const auto& n : j) r.push_back(n.is_string() ? n.get<std::string>() : n.dump());
  return r;
}

void setClassNames(Graph& graph, const std::vector<std::string>& names) {
  graph.metadata()["names"] = nlohmann::json(names).dump();
}

}  // namespace prunelab
