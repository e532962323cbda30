#include "cli/ratio_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace prunelab::cli {

namespace {

LayerRatios ratiosFromYaml(const YAML::Node& root, const std::string& path, double& fallback) {
  if (!root.IsMap()) throw Error(path, "expected a map of layer name (or pattern) to ratio");
  const bool nested = static_cast<bool>(root["layers"]);
  const YAML::Node layers = nested ? root["layers"] : root;
  if (root["default"]) {
    try {
      fallback = root["default"].as<double>();
    } catch (const YAML::Exception&) {
      throw Error(path, "'default' is not a number");
    }
  }
  if (!layers.IsMap()) throw Error(path, "expected a map of layer name (or pattern) to ratio");
  LayerRatios r;
  for (const auto& kv : layers) {
    if (!kv.first.IsScalar()) throw Error(path, "a layer name must be a plain string");
    const std::string key = kv.first.Scalar();
    if (key == "default" && !nested) continue;
    try {
      r.emplace_back(key, kv.second.as<double>());
    } catch (const YAML::Exception&) {
      throw Error(path, "ratio of '" + key + "' is not a number");
    }
  }
  return r;
}

}  // namespace

LayerRatios parseRatios(const std::string& yamlText, const std::string& path, double& fallback) {
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw Error(path, std::string("cannot read YAML: ") + e.what());
  }
  return ratiosFromYaml(root, path, fallback);
}

LayerRatios readRatios(const std::string& path, double& fallback) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return parseRatios(text.str(), path, fallback);
}

}  // namespace prunelab::cli
