#pragma once
// Detection augmentation settings and the pixel-box type shared by the augmentation
// code (OpenCV, internal) and the batch source (public, OpenCV-free).

namespace prunelab {

struct PixelBox {
  int cls = 0;
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

struct DetectAugmentOptions {
  int imgsz = 640;
  double mosaic = 1.0;      // probability of a 4-image mosaic
  int mosaicEpochs = 1 << 30;  // mosaic only in epochs < this (ultralytics' close_mosaic)
  double scale = 0.5;       // random scale in [1 - scale, 1 + scale]
  double translate = 0.1;   // random shift, fraction of imgsz
  double flipLr = 0.5;
  double hsvH = 0.015, hsvS = 0.7, hsvV = 0.4;
};

}  // namespace prunelab
