#include "gui/detection_preview.h"

#include <QFileInfo>

#include <opencv2/core.hpp>

#include "eval/detection_predictor.h"
#include "graph/graph.h"
#include "models/yolo/yolo_checkpoint.h"

namespace prunelab::gui {

void DetectionPreviewer::setData(const DetectionDatasetPtr& val) {
  m_names.clear();
  m_images.clear();
  m_classNames.clear();
  m_baseline.reset();
  m_baselineDetections.clear();
  if (!val) return;
  for (const std::string& n : val->classNames()) m_classNames << QString::fromStdString(n);
  for (size_t i = 0; i < val->size() && m_images.size() < size_t(kSamples); ++i) {
    const ImageU8 img = val->image(i);
    QImage q(img.width, img.height, QImage::Format_RGB888);
    for (int y = 0; y < img.height; ++y)
      std::copy_n(img.pixels.data() + size_t(y) * size_t(img.width) * 3, size_t(img.width) * 3, q.scanLine(y));
    m_images.push_back(std::move(q));
    m_names.push_back(QFileInfo(QString::fromStdString(val->imagePath(i))).fileName());
  }
}

std::vector<std::vector<Detection>> DetectionPreviewer::detect(const std::shared_ptr<Graph>& graph) const {
  PredictOptions o;
  o.post.confidence = kConfidence;
  const DetectionPredictor predictor(graph, o);
  std::vector<cv::Mat> rgb;
  for (const QImage& q : m_images)  // views of the QImage rows (bytesPerLine may pad)
    rgb.emplace_back(q.height(), q.width(), CV_8UC3, const_cast<uchar*>(q.constBits()), size_t(q.bytesPerLine()));
  return predictor.predict(rgb);
}

void DetectionPreviewer::prepareBaseline(const std::shared_ptr<Graph>& baseline) {
  if (!m_baseline.expired() && m_baseline.lock() == baseline) return;
  m_baselineDetections = detect(baseline);
  m_baseline = baseline;
}

namespace {

QVector<widgets::DetectionBox> boxes(const std::vector<Detection>& found) {
  QVector<widgets::DetectionBox> out;
  for (const Detection& d : found)
    out.push_back({QRectF(QPointF(d.box.x1, d.box.y1), QPointF(d.box.x2, d.box.y2)), d.cls, d.score});
  return out;
}

}  // namespace

widgets::DetectionsPreview DetectionPreviewer::preview(const std::shared_ptr<Graph>& baseline,
                                                       const std::string& baselineLabel,
                                                       const std::shared_ptr<Graph>& current,
                                                       const std::string& currentLabel) {
  prepareBaseline(baseline);
  const std::vector<std::vector<Detection>> now = current == baseline ? m_baselineDetections : detect(current);
  widgets::DetectionsPreview p;
  p.beforeLabel = QString::fromStdString(baselineLabel);
  p.afterLabel = QString::fromStdString(currentLabel);
  p.confidence = kConfidence;
  p.classNames = m_classNames;
  const std::vector<std::string> modelNames = classNames(*current);
  if (static_cast<int>(modelNames.size()) >= m_classNames.size()) {
    p.classNames.clear();
    for (const std::string& n : modelNames) p.classNames << QString::fromStdString(n);
  }
  for (size_t i = 0; i < m_images.size(); ++i)
    p.samples.push_back({m_names[i], m_images[i], boxes(m_baselineDetections.at(i)), boxes(now.at(i))});
  return p;
}

}  // namespace prunelab::gui
