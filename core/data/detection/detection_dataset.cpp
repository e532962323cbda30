#include "data/detection/detection_dataset.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "data/image_files.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab {

DetectionDataset::DetectionDataset(std::vector<std::string> images, std::vector<std::vector<BoxLabel>> labels,
                                   std::vector<std::string> classNames, std::string description)
    : m_images(std::move(images)),
      m_labels(std::move(labels)),
      m_classNames(std::move(classNames)),
      m_description(std::move(description)) {
  if (m_images.size() != m_labels.size()) throw Error(m_description, "images and label lists differ in length");
}

ImageU8 DetectionDataset::image(size_t index) const {
  const std::string& path = m_images.at(index);
  cv::Mat m = cv::imread(path, cv::IMREAD_COLOR);
  if (m.empty()) throw Error(path, "cannot decode image");
  cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  ImageU8 img;
  img.height = m.rows;
  img.width = m.cols;
  img.channels = 3;
  img.pixels.assign(m.data, m.data + m.total() * m.elemSize());
  return img;
}

size_t DetectionDataset::objectCount() const {
  size_t n = 0;
  for (const auto& l : m_labels) n += l.size();
  return n;
}

namespace {
std::string tok0(const std::string& line) {
  std::istringstream ss(line);
  std::string t;
  ss >> t;
  return t;
}
}  // namespace

std::vector<BoxLabel> readYoloLabels(const std::string& path, int numClasses) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot read label file");
  std::vector<BoxLabel> out;
  std::string line;
  for (int lineNo = 1; std::getline(in, line); ++lineNo) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream ss(line);
    double v[5];
    int fields = 0;
    std::string tok;
    while (ss >> tok) {
      if (fields == 5) {
        fields = 6;  // segments (polygon labels) are not supported: say so
        break;
      }
      try {
        size_t used = 0;
        v[fields] = std::stod(tok, &used);
        if (used != tok.size()) throw std::invalid_argument(tok);
      } catch (const std::exception&) {
        throw Error(path, "line " + std::to_string(lineNo) + ": '" + tok + "' is not a number");
      }
      ++fields;
    }
    const std::string where = "line " + std::to_string(lineNo) + ": ";
    if (fields != 5)
      throw Error(path, where + "expected 'class cx cy w h' (5 fields), found " +
                            (fields > 5 ? std::string("more (polygon labels are not supported)") : std::to_string(fields)));
    const double cls = v[0];
    if (cls != static_cast<long long>(cls))
      throw Error(path, where + "class " + tok0(line) + " is not an integer");
    if (cls < 0 || cls >= numClasses)
      throw Error(path, where + "class " + std::to_string(static_cast<long long>(cls)) + " is out of range [0, " +
                            std::to_string(numClasses) + ")");
    const double tol = 1e-3;  // exporters round; a little overshoot is clipped, more is an error
    for (int k = 1; k < 5; ++k)
      if (!(v[k] >= -tol && v[k] <= 1.0 + tol))
        throw Error(path, where + "coordinate " + std::to_string(v[k]) + " is outside [0, 1] (labels must be normalised)");
    if (v[3] <= 0 || v[4] <= 0) throw Error(path, where + "box has zero width or height");
    BoxLabel b;
    b.cls = static_cast<int>(cls);
    // Clip the box to the image, keeping it centre/size form.
    const double x1 = std::clamp(v[1] - v[3] / 2, 0.0, 1.0), x2 = std::clamp(v[1] + v[3] / 2, 0.0, 1.0);
    const double y1 = std::clamp(v[2] - v[4] / 2, 0.0, 1.0), y2 = std::clamp(v[2] + v[4] / 2, 0.0, 1.0);
    b.cx = static_cast<float>((x1 + x2) / 2);
    b.cy = static_cast<float>((y1 + y2) / 2);
    b.w = static_cast<float>(x2 - x1);
    b.h = static_cast<float>(y2 - y1);
    if (b.w > 0 && b.h > 0) out.push_back(b);
  }
  return out;
}

namespace {


// ultralytics' rule: the last "/images/" in the path becomes "/labels/", extension .txt.
std::string labelPathFor(const std::string& image) {
  std::string p = image;
  const std::string sep = std::string(1, fs::path::preferred_separator);
  const std::string imagesDir = sep + "images" + sep, labelsDir = sep + "labels" + sep;
  const size_t at = p.rfind(imagesDir);
  if (at != std::string::npos) p.replace(at, imagesDir.size(), labelsDir);
  return fs::path(p).replace_extension(".txt").string();
}

std::vector<std::string> listImages(const fs::path& split, const std::string& yamlPath) {
  std::vector<std::string> files;
  if (fs::is_directory(split)) {
    for (const auto& e : fs::recursive_directory_iterator(split))
      if (e.is_regular_file() && isImageFile(e.path())) files.push_back(e.path().string());
  } else if (fs::is_regular_file(split) && split.extension() == ".txt") {
    std::ifstream in(split);
    std::string line;
    while (std::getline(in, line)) {
      line.erase(line.find_last_not_of(" \t\r") + 1);
      if (line.empty()) continue;
      fs::path p(line);
      if (p.is_relative()) p = split.parent_path() / p;
      files.push_back(p.lexically_normal().string());
    }
  } else {
    throw Error(yamlPath, "split '" + split.string() + "' is neither a directory nor a .txt list of images");
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(yamlPath, "split '" + split.string() + "' contains no images");
  return files;
}

std::vector<std::string> readNames(const YAML::Node& root, const std::string& yamlPath) {
  std::vector<std::string> names;
  const YAML::Node n = root["names"];
  if (n && n.IsSequence()) {
    for (const auto& v : n) names.push_back(v.as<std::string>());
  } else if (n && n.IsMap()) {
    std::map<int, std::string> byIndex;
    for (const auto& kv : n) byIndex[kv.first.as<int>()] = kv.second.as<std::string>();
    for (const auto& [i, name] : byIndex) {
      if (i != static_cast<int>(names.size()))
        throw Error(yamlPath, "names: class indices must be 0..nc-1 without gaps");
      names.push_back(name);
    }
  } else if (root["nc"]) {
    for (int i = 0; i < root["nc"].as<int>(); ++i) names.push_back("class" + std::to_string(i));
  }
  if (names.empty()) throw Error(yamlPath, "has no 'names' (list or map of class names)");
  if (root["nc"] && root["nc"].as<int>() != static_cast<int>(names.size()))
    throw Error(yamlPath, "nc is " + root["nc"].as<std::string>() + " but names has " + std::to_string(names.size()));
  return names;
}

DetectionDatasetPtr openSplit(const fs::path& root, const YAML::Node& yaml, const char* key,
                              const std::vector<std::string>& names, const std::string& yamlPath, size_t limit) {
  if (!yaml[key]) throw Error(yamlPath, std::string("has no '") + key + "' split");
  fs::path split = yaml[key].as<std::string>();
  if (split.is_relative()) split = (root / split).lexically_normal();
  std::vector<std::string> images = listImages(split, yamlPath);
  if (limit > 0 && images.size() > limit) images.resize(limit);
  std::vector<std::vector<BoxLabel>> labels;
  labels.reserve(images.size());
  for (const auto& img : images) {
    const std::string lp = labelPathFor(img);
    labels.push_back(fs::exists(lp) ? readYoloLabels(lp, static_cast<int>(names.size())) : std::vector<BoxLabel>{});
  }
  return std::make_shared<DetectionDataset>(std::move(images), std::move(labels), names,
                                            "YOLO data " + split.string());
}

}  // namespace

DetectionSplits openYoloData(const std::string& dataYaml, size_t limitTrain, size_t limitVal) {
  fs::path yamlPath = dataYaml;
  if (fs::is_directory(yamlPath)) yamlPath /= "data.yaml";
  if (!fs::exists(yamlPath)) throw Error(yamlPath.string(), "does not exist (expected a YOLO data.yaml)");
  YAML::Node yaml;
  try {
    yaml = YAML::LoadFile(yamlPath.string());
  } catch (const YAML::Exception& e) {
    throw Error(yamlPath.string(), std::string("is not valid YAML: ") + e.what());
  }
  if (!yaml.IsMap()) throw Error(yamlPath.string(), "is not a YOLO data.yaml (expected a mapping)");
  fs::path root = yamlPath.parent_path();
  try {
    if (yaml["path"]) {
      fs::path p = yaml["path"].as<std::string>();
      root = p.is_relative() ? root / p : p;
    }
    root = root.lexically_normal();
    const auto names = readNames(yaml, yamlPath.string());
    DetectionSplits s;
    s.train = openSplit(root, yaml, "train", names, yamlPath.string(), limitTrain);
    s.val = openSplit(root, yaml, "val", names, yamlPath.string(), limitVal);
    return s;
  } catch (const YAML::Exception& e) {
    throw Error(yamlPath.string(), std::string("bad field: ") + e.what());
  }
}

}  // namespace prunelab
