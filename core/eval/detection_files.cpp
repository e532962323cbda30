#include "eval/detection_files.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "util/atomic_file.h"

namespace prunelab {

std::string yoloLabelText(const std::vector<Detection>& detections, int width, int height, bool withScore) {
  std::string text;
  char line[160];
  for (const Detection& d : detections) {
    const double w = double(d.box.x2 - d.box.x1), h = double(d.box.y2 - d.box.y1);
    const double cx = double(d.box.x1) + w / 2, cy = double(d.box.y1) + h / 2;
    int n = std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f", d.cls, cx / width, cy / height, w / width,
                          h / height);
    if (withScore) n += std::snprintf(line + n, sizeof line - size_t(n), " %.6f", double(d.score));
    text.append(line, size_t(n));
    text += '\n';
  }
  return text;
}

void writeYoloLabels(const std::string& path, const std::vector<Detection>& detections, int width, int height,
                     bool withScore) {
  const std::string text = yoloLabelText(detections, width, height, withScore);
  writeFileAtomically(path, [&](std::ostream& s) { s << text; });
}

std::string className(const std::vector<std::string>& names, int cls) {
  if (cls >= 0 && static_cast<size_t>(cls) < names.size()) return names[static_cast<size_t>(cls)];
  return std::to_string(cls);
}

namespace {

// Twelve well-separated colours (BGR), cycled by class.
cv::Scalar classColour(int cls) {
  static const cv::Scalar kColours[] = {{56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255},
                                        {49, 210, 207}, {10, 249, 72},   {23, 204, 146}, {134, 219, 61},
                                        {211, 188, 0},  {255, 115, 100}, {236, 24, 0},   {255, 56, 132}};
  return kColours[static_cast<size_t>(std::abs(cls)) % (sizeof kColours / sizeof kColours[0])];
}

}  // namespace

cv::Mat drawDetections(const cv::Mat& bgr, const std::vector<Detection>& detections,
                       const std::vector<std::string>& names) {
  cv::Mat out = bgr.clone();
  const int side = std::max(out.cols, out.rows);
  const int thickness = std::max(1, int(std::lround(side / 320.0)));
  const double fontScale = std::max(0.3, side / 900.0);
  for (const Detection& d : detections) {
    const cv::Scalar colour = classColour(d.cls);
    const cv::Point p1(int(std::lround(d.box.x1)), int(std::lround(d.box.y1)));
    const cv::Point p2(int(std::lround(d.box.x2)), int(std::lround(d.box.y2)));
    cv::rectangle(out, p1, p2, colour, thickness, cv::LINE_AA);
    char score[16];
    std::snprintf(score, sizeof score, " %.2f", double(d.score));
    const std::string label = className(names, d.cls) + score;
    int baseline = 0;
    const cv::Size size = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, fontScale, 1, &baseline);
    // The label sits on the box's top edge, inside the image when the box touches the top.
    const int top = p1.y - size.height - baseline >= 0 ? p1.y - size.height - baseline : p1.y;
    cv::rectangle(out, cv::Point(p1.x, top), cv::Point(p1.x + size.width, top + size.height + baseline), colour,
                  cv::FILLED);
    cv::putText(out, label, cv::Point(p1.x, top + size.height), cv::FONT_HERSHEY_SIMPLEX, fontScale,
                cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  return out;
}

}  // namespace prunelab
