#pragma once
// Detections as files: YOLO-format label text and annotated images, written by
// `prunelab-cli predict` and by `prunelab-cli eval --save-txt` (so the two can be
// compared line by line).

#include <string>
#include <vector>

#include "detect/detections.h"

namespace cv {
class Mat;
}

namespace prunelab {

// One line per detection, in the given order: "cls cx cy w h" normalised by the image's
// width and height (the YOLO label format ultralytics' save_txt writes), then " score"
// when `withScore`. Six decimals. Empty for no detections.
std::string yoloLabelText(const std::vector<Detection>& detections, int width, int height, bool withScore);

// Writes yoloLabelText(...) to `path`, replacing it atomically (util/atomic_file.h): the
// one writer of predict's and eval's label files.
void writeYoloLabels(const std::string& path, const std::vector<Detection>& detections, int width, int height,
                     bool withScore);

// names[cls] when there is one, else the class number.
std::string className(const std::vector<std::string>& names, int cls);

// A copy of `bgr` (CV_8UC3) with each detection's box and "name 0.87" drawn, a colour per
// class. Line width and font scale follow the image size.
cv::Mat drawDetections(const cv::Mat& bgr, const std::vector<Detection>& detections,
                       const std::vector<std::string>& names);

}  // namespace prunelab
