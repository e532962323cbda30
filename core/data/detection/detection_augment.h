#pragma once
// Detection augmentation, ultralytics-style, on OpenCV images:
//   train: mosaic of 4 images (probability `mosaic`) or a letterboxed single image, then a
//          random scale/translate affine onto imgsz x imgsz, HSV jitter, left-right flip;
//   eval:  letterbox (keep aspect, pad with grey 114, centred).
// Boxes are carried as pixel corners and dropped when the augmentation cuts away more
// than 90% of them or leaves them under 2 px.
//
// Threads: free functions without shared state; the caller passes the RNG.

#include <opencv2/core.hpp>
#include <random>
#include <vector>

#include "data/detection/detection_augment_options.h"

namespace prunelab {

struct AugmentedImage {
  cv::Mat image;  // CV_8UC3, RGB, imgsz x imgsz
  std::vector<PixelBox> boxes;
};

// Resizes so the long side is `size` and pads to size x size, centred.
// Returns the scale and the (left, top) padding applied to coordinates.
AugmentedImage letterbox(const cv::Mat& image, std::vector<PixelBox> boxes, int size, double* scaleOut = nullptr,
                         cv::Point2d* padOut = nullptr);

// Resizes so that the long side is `size` (boxes follow).
void resizeLongSide(cv::Mat& image, std::vector<PixelBox>& boxes, int size);

// Where the evaluation input (evalLetterbox) puts an image of width x height: a network
// pixel is original pixel * scale + pad. The inverse maps detections back to the image.
struct LetterboxGeometry {
  double scale = 1.0;
  double padX = 0.0, padY = 0.0;
  int width = 0, height = 0;  // of the original image
};
LetterboxGeometry letterboxGeometry(int width, int height, int size);

// The un-augmented input of validation and prediction: long side resized to `size`, then
// padded to size x size, centred - the same pixels whether the image comes through a
// DetectionBatches loader or a predictor, so both see identical inputs.
AugmentedImage evalLetterbox(const cv::Mat& image, std::vector<PixelBox> boxes, int size);

// Four images (each already resized to long side imgsz) on a 2*imgsz canvas around a
// random centre.
AugmentedImage mosaic4(const std::vector<cv::Mat>& images, const std::vector<std::vector<PixelBox>>& boxes, int imgsz,
                       std::mt19937_64& rng);

// Random scale/translate of `in` (canvas of any size) onto an imgsz x imgsz output
// centred on the canvas centre.
AugmentedImage randomAffine(const AugmentedImage& in, const DetectAugmentOptions& o, std::mt19937_64& rng);

void hsvJitter(cv::Mat& rgb, const DetectAugmentOptions& o, std::mt19937_64& rng);
void flipLeftRight(AugmentedImage& img);

}  // namespace prunelab
