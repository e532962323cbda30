#include "cli/ratio_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "util/error.h"

namespace prunelab::cli {

namespace {

// YAML maps keep a repeated key, and a lookup sees only its first value: the file's
// author meant one of the two, so neither is guessed.
void checkUniqueKeys(const YAML::Node& map, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& kv : map)
    if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second)
      throw Error(path, "'" + kv.first.Scalar() + "' is given twice; keep one ratio per layer or pattern");
}

LayerRatios ratiosFromYaml(const YAML::Node& root, const std::string& path, double& fallback) {
  if (!root.IsMap()) throw Error(path, "expected a map of layer name (or pattern) to ratio");
  checkUniqueKeys(root, path);
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
  if (nested) checkUniqueKeys(layers, path);
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
