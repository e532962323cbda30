#include "data/detection/detection_augment.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace prunelab {

namespace {
const cv::Scalar kPad(114, 114, 114);

double uniform(std::mt19937_64& rng, double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }
}  // namespace

void resizeLongSide(cv::Mat& image, std::vector<PixelBox>& boxes, int size) {
  const double r = double(size) / std::max(image.rows, image.cols);
  if (r == 1.0) return;
  const int w = std::max(1, int(std::lround(image.cols * r))), h = std::max(1, int(std::lround(image.rows * r)));
  cv::resize(image, image, cv::Size(w, h), 0, 0, r < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  for (auto& b : boxes) {
    b.x1 = float(b.x1 * r);
    b.x2 = float(b.x2 * r);
    b.y1 = float(b.y1 * r);
    b.y2 = float(b.y2 * r);
  }
}

AugmentedImage letterbox(const cv::Mat& image, std::vector<PixelBox> boxes, int size, double* scaleOut,
                         cv::Point2d* padOut) {
  cv::Mat resized = image;
  const double r = double(size) / std::max(image.rows, image.cols);
  resizeLongSide(resized, boxes, size);
  const int left = (size - resized.cols) / 2, top = (size - resized.rows) / 2;
  AugmentedImage out;
  cv::copyMakeBorder(resized, out.image, top, size - resized.rows - top, left, size - resized.cols - left,
                     cv::BORDER_CONSTANT, kPad);
  for (auto& b : boxes) {
    b.x1 += float(left);
    b.x2 += float(left);
    b.y1 += float(top);
    b.y2 += float(top);
  }
  out.boxes = std::move(boxes);
  if (scaleOut) *scaleOut = r;
  if (padOut) *padOut = {double(left), double(top)};
  return out;
}

LetterboxGeometry letterboxGeometry(int width, int height, int size) {
  // The arithmetic of resizeLongSide() and letterbox() above, without the pixels.
  LetterboxGeometry g;
  g.width = width;
  g.height = height;
  g.scale = double(size) / std::max(width, height);
  const bool same = g.scale == 1.0;
  const int w = same ? width : std::max(1, int(std::lround(width * g.scale)));
  const int h = same ? height : std::max(1, int(std::lround(height * g.scale)));
  g.padX = double((size - w) / 2);
  g.padY = double((size - h) / 2);
  return g;
}

AugmentedImage evalLetterbox(const cv::Mat& image, std::vector<PixelBox> boxes, int size) {
  cv::Mat resized = image;
  resizeLongSide(resized, boxes, size);
  return letterbox(resized, std::move(boxes), size);
}

AugmentedImage mosaic4(const std::vector<cv::Mat>& images, const std::vector<std::vector<PixelBox>>& boxes, int s,
                       std::mt19937_64& rng) {
  AugmentedImage out;
  out.image = cv::Mat(2 * s, 2 * s, CV_8UC3, kPad);
  const int xc = int(uniform(rng, s * 0.5, s * 1.5)), yc = int(uniform(rng, s * 0.5, s * 1.5));
  for (size_t i = 0; i < 4 && i < images.size(); ++i) {
    const cv::Mat& img = images[i];
    const int h = img.rows, w = img.cols;
    int x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;  // a: canvas region, b: image region
    if (i == 0) {  // top left: the image's bottom-right corner sits on the centre
      x1a = std::max(xc - w, 0), y1a = std::max(yc - h, 0), x2a = xc, y2a = yc;
      x1b = w - (x2a - x1a), y1b = h - (y2a - y1a), x2b = w, y2b = h;
    } else if (i == 1) {  // top right
      x1a = xc, y1a = std::max(yc - h, 0), x2a = std::min(xc + w, 2 * s), y2a = yc;
      x1b = 0, y1b = h - (y2a - y1a), x2b = std::min(w, x2a - x1a), y2b = h;
    } else if (i == 2) {  // bottom left
      x1a = std::max(xc - w, 0), y1a = yc, x2a = xc, y2a = std::min(2 * s, yc + h);
      x1b = w - (x2a - x1a), y1b = 0, x2b = w, y2b = std::min(y2a - y1a, h);
    } else {  // bottom right
      x1a = xc, y1a = yc, x2a = std::min(xc + w, 2 * s), y2a = std::min(2 * s, yc + h);
      x1b = 0, y1b = 0, x2b = std::min(w, x2a - x1a), y2b = std::min(y2a - y1a, h);
    }
    if (x2a <= x1a || y2a <= y1a) continue;
    img(cv::Rect(x1b, y1b, x2b - x1b, y2b - y1b)).copyTo(out.image(cv::Rect(x1a, y1a, x2a - x1a, y2a - y1a)));
    const float padw = float(x1a - x1b), padh = float(y1a - y1b);
    for (PixelBox b : boxes[i]) {
      b.x1 = std::clamp(b.x1 + padw, float(x1a), float(x2a));
      b.x2 = std::clamp(b.x2 + padw, float(x1a), float(x2a));
      b.y1 = std::clamp(b.y1 + padh, float(y1a), float(y2a));
      b.y2 = std::clamp(b.y2 + padh, float(y1a), float(y2a));
      if (b.x2 - b.x1 > 1 && b.y2 - b.y1 > 1) out.boxes.push_back(b);
    }
  }
  return out;
}

AugmentedImage randomAffine(const AugmentedImage& in, const DetectAugmentOptions& o, std::mt19937_64& rng) {
  const int s = o.imgsz;
  const double scale = uniform(rng, 1 - o.scale, 1 + o.scale);
  const double tx = uniform(rng, -o.translate, o.translate) * s, ty = uniform(rng, -o.translate, o.translate) * s;
  // dst = (src - canvas centre) * scale + output centre + shift
  const double cx = in.image.cols / 2.0, cy = in.image.rows / 2.0;
  const double ox = s / 2.0 + tx - cx * scale, oy = s / 2.0 + ty - cy * scale;
  cv::Mat m = (cv::Mat_<double>(2, 3) << scale, 0, ox, 0, scale, oy);
  AugmentedImage out;
  cv::warpAffine(in.image, out.image, m, cv::Size(s, s), cv::INTER_LINEAR, cv::BORDER_CONSTANT, kPad);
  for (const PixelBox& b : in.boxes) {
    PixelBox t = b;
    t.x1 = float(std::clamp(b.x1 * scale + ox, 0.0, double(s)));
    t.x2 = float(std::clamp(b.x2 * scale + ox, 0.0, double(s)));
    t.y1 = float(std::clamp(b.y1 * scale + oy, 0.0, double(s)));
    t.y2 = float(std::clamp(b.y2 * scale + oy, 0.0, double(s)));
    const double w = t.x2 - t.x1, h = t.y2 - t.y1;
    const double before = double(b.x2 - b.x1) * double(b.y2 - b.y1) * scale * scale;
    // ultralytics' box_candidates: > 2 px, > 10% of the area kept, aspect ratio < 20
    if (w > 2 && h > 2 && w * h > 0.1 * before && std::max(w / h, h / w) < 20) out.boxes.push_back(t);
  }
  return out;
}

void hsvJitter(cv::Mat& rgb, const DetectAugmentOptions& o, std::mt19937_64& rng) {
  if (o.hsvH <= 0 && o.hsvS <= 0 && o.hsvV <= 0) return;
  const double rh = uniform(rng, -1, 1) * o.hsvH + 1, rs = uniform(rng, -1, 1) * o.hsvS + 1,
               rv = uniform(rng, -1, 1) * o.hsvV + 1;
  cv::Mat hsv;
  cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);
  cv::Mat lut(1, 256, CV_8UC3);
  for (int x = 0; x < 256; ++x) {
    lut.at<cv::Vec3b>(0, x) = cv::Vec3b(static_cast<uint8_t>(int(x * rh) % 180),
                                        cv::saturate_cast<uint8_t>(x * rs), cv::saturate_cast<uint8_t>(x * rv));
  }
  cv::LUT(hsv, lut, hsv);
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
}

void flipLeftRight(AugmentedImage& img) {
  cv::flip(img.image, img.image, 1);
  const float w = float(img.image.cols);
  for (auto& b : img.boxes) {
    const float x1 = w - b.x2, x2 = w - b.x1;
    b.x1 = x1;
    b.x2 = x2;
  }
}

}  // namespace prunelab
