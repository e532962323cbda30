#pragma once
// Detection data in the YOLO format (ultralytics/yolov5 layout):
//   data.yaml   path: ROOT, train: images/train, val: images/val, names: [..] or {0: ..}
//   ROOT/images/<split>/*.jpg|png   and   ROOT/labels/<split>/<stem>.txt
// with one "class cx cy w h" line per object, coordinates normalised to [0, 1].
// A split may also be a .txt file listing image paths. An image without a label file
// is a background image (no objects), as in ultralytics.
//
// Contract
// - Every label file is parsed when the dataset opens: a bad line (field count,
//   number, class out of range, box outside the image) throws prunelab::Error naming
//   the file and the line, before any training starts.
// - image() decodes on demand with OpenCV (RGB, 3 channels) and is thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace prunelab {

struct BoxLabel {
  int cls = 0;
  float cx = 0, cy = 0, w = 0, h = 0;  // normalised to the image size
};

class DetectionDataset {
 public:
  DetectionDataset(std::vector<std::string> images, std::vector<std::vector<BoxLabel>> labels,
                   std::vector<std::string> classNames, std::string description);

  size_t size() const { return m_images.size(); }
  ImageU8 image(size_t index) const;  // RGB, throws naming the file when undecodable
  const std::vector<BoxLabel>& labels(size_t index) const { return m_labels.at(index); }
  const std::string& imagePath(size_t index) const { return m_images.at(index); }
  int numClasses() const { return static_cast<int>(m_classNames.size()); }
  const std::vector<std::string>& classNames() const { return m_classNames; }
  const std::string& description() const { return m_description; }
  size_t objectCount() const;

 private:
  std::vector<std::string> m_images;
  std::vector<std::vector<BoxLabel>> m_labels;
  std::vector<std::string> m_classNames;
  std::string m_description;
};

using DetectionDatasetPtr = std::shared_ptr<const DetectionDataset>;

struct DetectionSplits {
  DetectionDatasetPtr train;
  DetectionDatasetPtr val;
};

// Opens a data.yaml (or a directory containing one). Throws prunelab::Error naming the
// file and the problem. `limitTrain`/`limitVal` > 0 keep only the first N images.
DetectionSplits openYoloData(const std::string& dataYaml, size_t limitTrain = 0, size_t limitVal = 0);

// Parses one YOLO label file; throws naming `path` and the line.
std::vector<BoxLabel> readYoloLabels(const std::string& path, int numClasses);

}  // namespace prunelab
