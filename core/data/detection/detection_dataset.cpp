#include "data/detection/detection_dataset.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
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
                                   std::vector<std::string> classNames, std::string description, LabelCheck check)
    : m_images(std::move(images)),
      m_labels(std::move(labels)),
      m_classNames(std::move(classNames)),
      m_description(std::move(description)),
      m_check(std::move(check)) {
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

// ultralytics' rule: the last "/images/" in the path becomes "/labels/", extension .txt.
std::string labelPathFor(const std::string& image) {
  std::string p = image;
  const std::string sep = std::string(1, fs::path::preferred_separator);
  const std::string imagesDir = sep + "images" + sep, labelsDir = sep + "labels" + sep;
  const size_t at = p.rfind(imagesDir);
  if (at != std::string::npos) p.replace(at, imagesDir.size(), labelsDir);
  return fs::path(p).replace_extension(".txt").string();
}

bool pathExists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// One entry of a .txt image list (see the header for the order of places tried).
fs::path listEntry(const std::string& entry, const fs::path& listDir, const fs::path& root) {
  const fs::path p(entry);
  if (p.is_absolute()) return p;
  if (entry.rfind("./", 0) == 0) return (listDir / entry.substr(2)).lexically_normal();
  for (const fs::path& base : {listDir, root})
    if (pathExists(base / p)) return (base / p).lexically_normal();
  return p;  // as written: relative to the current directory
}

// The images of one split entry (a folder or a .txt list); listed images that do not
// exist are left out with a warning.
void addImages(const fs::path& split, const fs::path& root, const std::string& yamlPath,
               std::vector<std::string>& files, LabelCheck& check) {
  if (fs::is_directory(split)) {
    for (const auto& e : fs::recursive_directory_iterator(split))
      if (e.is_regular_file() && isImageFile(e.path())) files.push_back(e.path().string());
  } else if (fs::is_regular_file(split) && split.extension() == ".txt") {
    std::ifstream in(split);
    if (!in) throw Error(split.string(), "cannot read the image list");
    std::string line;
    for (int lineNo = 1; std::getline(in, line); ++lineNo) {
      line.erase(line.find_last_not_of(" \t\r") + 1);
      line.erase(0, line.find_first_not_of(" \t"));
      if (line.empty()) continue;
      const fs::path p = listEntry(line, split.parent_path(), root);
      if (!isImageFile(p)) continue;  // ultralytics keeps image suffixes only
      if (!pathExists(p)) {
        ++check.skipped;
        check.warnings.push_back(split.string() + ":" + std::to_string(lineNo) + ": image " + p.string() +
                                 " does not exist");
        continue;
      }
      files.push_back(p.string());
    }
  } else if (!pathExists(split)) {
    throw Error(yamlPath, "split '" + split.string() + "' does not exist");
  } else {
    throw Error(yamlPath, "split '" + split.string() + "' is neither a directory nor a .txt list of images");
  }
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
    const int nc = root["nc"].as<int>();
    // A class count is also a loop bound here and a tensor width later: refuse absurd ones.
    if (nc > kMaxDataClasses)
      throw Error(yamlPath, "nc " + std::to_string(nc) + " is more than " + std::to_string(kMaxDataClasses) + " classes");
    for (int i = 0; i < nc; ++i) names.push_back("class" + std::to_string(i));
  }
  if (names.empty()) throw Error(yamlPath, "has no 'names' (list or map of class names)");
  if (root["nc"] && root["nc"].as<int>() != static_cast<int>(names.size()))
    throw Error(yamlPath, "nc is " + root["nc"].as<std::string>() + " but names has " + std::to_string(names.size()));
  return names;
}

// A split's path under ROOT; ultralytics retries a missing "../x" as "x".
fs::path splitPath(const fs::path& root, const std::string& value) {
  const fs::path p(value);
  if (p.is_absolute()) return p;
  const fs::path under = (root / p).lexically_normal();
  if (!pathExists(under) && value.rfind("../", 0) == 0) return (root / value.substr(3)).lexically_normal();
  return under;
}

// `p` after symlinks and "..", as far as it exists.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  const fs::path r = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : r;
}

bool isUnder(const fs::path& p, const fs::path& dir) {
  const fs::path rel = resolved(p).lexically_relative(resolved(dir));
  return !rel.empty() && *rel.begin() != "..";
}

// The running system's folders, never a dataset: a split that climbs out of the dataset
// (../../..) into /proc or /dev would walk it, file by file. "" when `p` is elsewhere.
// /dev/shm is the exception: a RAM disk people copy datasets to for speed.
std::string systemFolder(const fs::path& p) {
  if (isUnder(p, "/dev/shm")) return "";
  for (const char* dir : {"/dev", "/proc", "/sys"})
    if (isUnder(p, dir)) return dir;
  return "";
}

// A split's entries as written: one path or a list of them.
std::vector<std::string> splitEntries(const YAML::Node& yaml, const char* key, const std::string& yamlPath) {
  const YAML::Node node = yaml[key];
  if (!node || node.IsNull()) throw Error(yamlPath, std::string("has no '") + key + "' split");
  std::vector<std::string> entries;
  if (node.IsSequence()) {
    for (const auto& e : node) entries.push_back(e.as<std::string>());
    if (entries.empty()) throw Error(yamlPath, std::string("'") + key + "' is an empty list");
  } else {
    entries.push_back(node.as<std::string>());
  }
  return entries;
}

DetectionDatasetPtr openSplit(const fs::path& root, const std::vector<std::string>& entries, const char* key,
                              const std::vector<std::string>& names, const std::string& yamlPath, size_t limit) {
  LabelCheck check;
  std::vector<std::string> images;
  std::string where;
  const fs::path yamlDir = fs::path(yamlPath).parent_path();
  for (const auto& e : entries) {
    const fs::path split = splitPath(root, e);
    if (const std::string system = systemFolder(split); !system.empty())
      throw Error(yamlPath, std::string(key) + " split '" + e + "' resolves to " + resolved(split).string() +
                                ", in the system folder " + system + ", not a dataset");
    // Allowed (a shared image folder), but said: a wrong "../" count lands on other data.
    if (!isUnder(split, root) && !isUnder(split, yamlDir.empty() ? fs::path(".") : yamlDir))
      check.warnings.push_back(yamlPath + ": " + key + " split '" + e + "' resolves to " + resolved(split).string() +
                               ", outside the YAML's folder and its path");
    addImages(split, root, yamlPath, images, check);
    where += (where.empty() ? "" : ", ") + split.string();
  }
  std::sort(images.begin(), images.end());
  images.erase(std::unique(images.begin(), images.end()), images.end());
  if (images.empty()) throw Error(yamlPath, std::string(key) + " split '" + where + "' contains no images");
  if (limit > 0 && images.size() > limit) images.resize(limit);

  std::vector<std::string> kept;
  std::vector<std::vector<BoxLabel>> labels;
  kept.reserve(images.size());
  labels.reserve(images.size());
  for (auto& img : images) {
    const std::string lp = labelPathFor(img);
    if (!pathExists(lp)) {
      ++check.missing;  // a background image
      kept.push_back(std::move(img));
      labels.emplace_back();
      continue;
    }
    ParsedLabels p = parseYoloLabels(lp, static_cast<int>(names.size()));
    if (!p.ok()) {
      ++check.skipped;
      check.warnings.push_back(p.problem + " (image skipped)");
      continue;
    }
    ++check.found;
    check.empty += p.empty ? 1 : 0;
    check.duplicates += p.duplicates;
    check.polygons += p.polygons;
    kept.push_back(std::move(img));
    labels.push_back(std::move(p.boxes));
  }
  check.images = kept.size();
  if (kept.empty())
    throw Error(yamlPath, std::string(key) + " split '" + where + "': every image was skipped for bad labels (first: " +
                              check.warnings.front() + ")");
  return std::make_shared<DetectionDataset>(std::move(kept), std::move(labels), names, "YOLO data " + where,
                                            std::move(check));
}

// ROOT from `path` (see the header).
fs::path datasetRoot(const std::optional<std::string>& path, const fs::path& yamlDir, const std::string& yamlPath) {
  if (!path) return yamlDir;
  const fs::path p = *path;
  if (p.is_absolute()) return p;
  const fs::path nextToYaml = (yamlDir / p).lexically_normal();
  if (pathExists(nextToYaml)) return nextToYaml;
  const fs::path underDatasets = (fs::current_path() / "datasets" / p).lexically_normal();
  if (pathExists(underDatasets)) return underDatasets;
  throw Error(yamlPath, "path '" + p.string() + "' not found: tried " + nextToYaml.string() + " and " +
                            underDatasets.string() + " (ultralytics' ./datasets/)");
}

}  // namespace

YoloDataSpec parseYoloDataYaml(const std::string& yamlText, const std::string& yamlPath) {
  YAML::Node yaml;
  try {
    yaml = YAML::Load(yamlText);
  } catch (const YAML::Exception& e) {
    throw Error(yamlPath, std::string("is not valid YAML: ") + e.what());
  }
  if (!yaml.IsMap()) throw Error(yamlPath, "is not a YOLO data.yaml (expected a mapping)");
  try {
    YoloDataSpec spec;
    if (yaml["path"] && !yaml["path"].IsNull()) spec.path = yaml["path"].as<std::string>();
    spec.names = readNames(yaml, yamlPath);
    spec.train = splitEntries(yaml, "train", yamlPath);
    spec.val = splitEntries(yaml, "val", yamlPath);
    const YAML::Node test = yaml["test"];
    if (test && !test.IsNull() && !(test.IsScalar() && test.Scalar().empty()))
      spec.test = splitEntries(yaml, "test", yamlPath);
    return spec;
  } catch (const YAML::Exception& e) {
    throw Error(yamlPath, std::string("bad field: ") + e.what());
  }
}

DetectionSplits openYoloData(const std::string& dataYaml, size_t limitTrain, size_t limitVal) {
  fs::path yamlPath = dataYaml;
  if (fs::is_directory(yamlPath)) yamlPath /= "data.yaml";
  const std::string where = yamlPath.string();
  std::ifstream in(yamlPath, std::ios::binary);
  if (!fs::exists(yamlPath) || !in) throw Error(where, "does not exist (expected a YOLO data.yaml)");
  std::ostringstream text;
  text << in.rdbuf();
  const YoloDataSpec spec = parseYoloDataYaml(text.str(), where);
  try {
    const fs::path root = datasetRoot(spec.path, yamlPath.parent_path(), where);
    if (const std::string system = systemFolder(root); !system.empty())
      throw Error(where, "path '" + spec.path.value_or(".") + "' resolves to " + resolved(root).string() + ", in the system folder " +
                             system + ", not a dataset");
    DetectionSplits s;
    s.train = openSplit(root, spec.train, "train", spec.names, where, limitTrain);
    s.val = openSplit(root, spec.val, "val", spec.names, where, limitVal);
    if (!spec.test.empty()) s.test = openSplit(root, spec.test, "test", spec.names, where, 0);
    return s;
  } catch (const fs::filesystem_error& e) {  // a path from the file the system refuses (too long, no access...)
    throw Error(where, e.what());
  }
}

}  // namespace prunelab
