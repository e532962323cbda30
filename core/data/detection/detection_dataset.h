#pragma once
// Detection data in the YOLO format, resolved as ultralytics resolves it
// (ultralytics/data/utils.py check_det_dataset, data/base.py get_img_files):
//   data.yaml   path: ROOT, train: images/train, val: images/val, test: ..., names: [..] or {0: ..}
//   ROOT/images/<split>/*.jpg|png   and   ROOT/labels/<split>/<stem>.txt
//
// Contract
// - ROOT: `path` when absolute; a relative `path` is tried against the YAML's folder, then
//   against ./datasets/ (the current directory's datasets folder, ultralytics' default
//   datasets_dir); without `path`, the YAML's folder.
// - A split (train, val, optional test) is a folder (searched recursively for images), a
//   .txt file listing image paths, or a YAML list of either. Relative splits are under
//   ROOT (a "../x" that does not exist is retried as "x", as ultralytics does). In a list
//   file, "./x" is relative to the list's folder (ultralytics); another relative entry is
//   tried against the list's folder, then ROOT, then the current directory.
// - Labels: the last "/images/" of an image's path becomes "/labels/", extension .txt
//   (yolo_labels.h says how a file is read). A missing or empty label file is a
//   background image. An image whose label file is bad, or a listed image that does not
//   exist, is left out with a warning in labelCheck(); nothing in the labels aborts.
// - Errors (prunelab::Error naming the YAML or the path): no such file, bad YAML, no
//   names/nc, a split that does not exist or holds no images.
// - image() decodes on demand with OpenCV (RGB, 3 channels) and is thread-safe.

#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/detection/yolo_labels.h"

namespace prunelab {

class DetectionDataset {
 public:
  DetectionDataset(std::vector<std::string> images, std::vector<std::vector<BoxLabel>> labels,
                   std::vector<std::string> classNames, std::string description, LabelCheck check = {});

  size_t size() const { return m_images.size(); }
  ImageU8 image(size_t index) const;  // RGB, throws naming the file when undecodable
  const std::vector<BoxLabel>& labels(size_t index) const { return m_labels.at(index); }
  const std::string& imagePath(size_t index) const { return m_images.at(index); }
  int numClasses() const { return static_cast<int>(m_classNames.size()); }
  const std::vector<std::string>& classNames() const { return m_classNames; }
  const std::string& description() const { return m_description; }
  size_t objectCount() const;
  const LabelCheck& labelCheck() const { return m_check; }

 private:
  std::vector<std::string> m_images;
  std::vector<std::vector<BoxLabel>> m_labels;
  std::vector<std::string> m_classNames;
  std::string m_description;
  LabelCheck m_check;
};

using DetectionDatasetPtr = std::shared_ptr<const DetectionDataset>;

struct DetectionSplits {
  DetectionDatasetPtr train;
  DetectionDatasetPtr val;
  DetectionDatasetPtr test;  // null when the YAML has no test split
};

// Opens a data.yaml (or a directory containing one). Throws prunelab::Error naming the
// file and the problem. `limitTrain`/`limitVal` > 0 keep only the first N images (of the
// sorted list, before labels are checked).
DetectionSplits openYoloData(const std::string& dataYaml, size_t limitTrain = 0, size_t limitVal = 0);

// What a data.yaml says, before anything on disk is looked at (openYoloData's first step;
// the fuzz harness's entry). Throws prunelab::Error naming `yamlPath` for bad YAML, no
// names/nc, an nc above kMaxDataClasses, a missing train/val split or a bad field.
constexpr int kMaxDataClasses = 100000;
struct YoloDataSpec {
  std::optional<std::string> path;  // `path` as written (ROOT); unset when absent or null
  std::vector<std::string> train, val, test;  // entries as written; `test` empty when absent
  std::vector<std::string> names;
};
YoloDataSpec parseYoloDataYaml(const std::string& yamlText, const std::string& yamlPath);

}  // namespace prunelab
