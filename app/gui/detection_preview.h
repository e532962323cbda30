#pragma once
// DetectionPreviewer: the Detections view's numbers. It keeps the first few validation
// images of the open detection data (decoded once), runs a detector on them through
// core's DetectionPredictor (the boxes `prunelab-cli predict` writes) and builds the
// panel's before/after preview. The baseline's detections are cached per baseline
// version, so a change of the current model costs one forward of the samples.
// Thread: the worker thread (it runs models); the preview it returns is a plain value.

#include <QImage>
#include <QString>
#include <QStringList>

#include <memory>
#include <string>
#include <vector>

#include "data/detection/detection_dataset.h"
#include "detect/detections.h"
#include "widgets/detections_panel.h"

namespace prunelab {
class Graph;
}

namespace prunelab::gui {

class DetectionPreviewer {
 public:
  static constexpr int kSamples = 4;
  static constexpr float kConfidence = 0.25f;

  // The samples: the first kSamples images of `val` (null: none).
  void setData(const DetectionDatasetPtr& val);
  bool hasSamples() const { return !m_images.empty(); }

  // Detections of `graph` on the samples, boxes in image pixels.
  std::vector<std::vector<Detection>> detect(const std::shared_ptr<Graph>& graph) const;
  // Caches `baseline`'s detections unless they are cached for it already.
  void prepareBaseline(const std::shared_ptr<Graph>& baseline);
  // The preview: cached baseline boxes on the left, `current`'s on the right (the same
  // boxes when current is the baseline).
  widgets::DetectionsPreview preview(const std::shared_ptr<Graph>& baseline, const std::string& baselineLabel,
                                     const std::shared_ptr<Graph>& current, const std::string& currentLabel);

 private:
  std::vector<QString> m_names;  // file names
  std::vector<QImage> m_images;   // RGB888, the panel's copy and the predictor's input
  QStringList m_classNames;       // the data's
  std::weak_ptr<Graph> m_baseline;
  std::vector<std::vector<Detection>> m_baselineDetections;
};

}  // namespace prunelab::gui
