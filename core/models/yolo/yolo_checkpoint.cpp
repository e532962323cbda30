#include "models/yolo/yolo_checkpoint.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "models/yolo/yolo_builder.h"
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
