#include "data/detection/detection_batches.h"

#include <ATen/ATen.h>

#include <opencv2/imgproc.hpp>

#include "data/detection/detection_augment.h"
#include "data/transforms.h"
#include "util/error.h"

namespace prunelab {

DetectionBatches::DetectionBatches(DetectionDatasetPtr dataset, DetectAugmentOptions options, uint64_t seed)
    : m_dataset(std::move(dataset)), m_options(options), m_seed(seed) {
  if (!m_dataset) throw Error("detection data", "no dataset");
  if (m_options.imgsz <= 0 || m_options.imgsz % 32 != 0)
    throw Error("--imgsz", "must be a positive multiple of 32 (the largest stride)");
}

namespace {

// Image `index` resized to a long side of imgsz, with its boxes in pixels.
cv::Mat load(const DetectionDataset& data, size_t index, int imgsz, std::vector<PixelBox>& boxes) {
  const ImageU8 img = data.image(index);
  cv::Mat m(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels.data()));
  m = m.clone();  // own the pixels: `img` dies here
  boxes.clear();
  for (const BoxLabel& l : data.labels(index))
    boxes.push_back({l.cls, (l.cx - l.w / 2) * img.width, (l.cy - l.h / 2) * img.height, (l.cx + l.w / 2) * img.width,
                     (l.cy + l.h / 2) * img.height});
  resizeLongSide(m, boxes, imgsz);
  return m;
}

}  // namespace

void writeNetworkInput(const cv::Mat& rgb, float* out) {
  // HWC uint8 -> CHW float in [0, 1]
  const int h = rgb.rows, w = rgb.cols;
  const size_t plane = size_t(h) * size_t(w);
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) out[c * plane + size_t(y) * w + x] = row[3 * x + c] * (1.0f / 255.0f);
  }
}

// The augmented sample as an OpenCV image (internal: Sample/assemble convert it).
static AugmentedImage augmentedSample(const DetectionDataset& data, const DetectAugmentOptions& opt, uint64_t seed,
                                      size_t index, int epoch, bool augment) {
  const int imgsz = opt.imgsz;
  std::vector<PixelBox> boxes;
  cv::Mat image = load(data, index, imgsz, boxes);
  if (!augment) return evalLetterbox(image, std::move(boxes), imgsz);  // already resized: pads only

  std::mt19937_64 rng = sampleRng(seed, epoch, index);
  const bool useMosaic = epoch < opt.mosaicEpochs && std::uniform_real_distribution<double>(0, 1)(rng) < opt.mosaic;
  AugmentedImage canvas;
  if (useMosaic) {
    std::vector<cv::Mat> images{image};
    std::vector<std::vector<PixelBox>> allBoxes{boxes};
    std::uniform_int_distribution<size_t> pick(0, data.size() - 1);
    for (int k = 0; k < 3; ++k) {
      std::vector<PixelBox> b;
      images.push_back(load(data, pick(rng), imgsz, b));
      allBoxes.push_back(std::move(b));
    }
    canvas = mosaic4(images, allBoxes, imgsz, rng);
  } else {
    canvas = letterbox(image, std::move(boxes), imgsz);
  }
  AugmentedImage out = randomAffine(canvas, opt, rng);
  hsvJitter(out.image, opt, rng);
  if (std::uniform_real_distribution<double>(0, 1)(rng) < opt.flipLr) flipLeftRight(out);
  return out;
}

DetectionBatches::Sample DetectionBatches::sample(size_t index, int epoch, bool augment) const {
  const AugmentedImage a = augmentedSample(*m_dataset, m_options, m_seed, index, epoch, augment);
  Sample s;
  s.image.height = a.image.rows;
  s.image.width = a.image.cols;
  s.image.channels = 3;
  s.image.pixels.assign(a.image.data, a.image.data + a.image.total() * a.image.elemSize());
  s.boxes = a.boxes;
  return s;
}

Batch DetectionBatches::assemble(const std::vector<size_t>& indices, int epoch, bool augment) const {
  const auto n = static_cast<int64_t>(indices.size());
  const int s = m_options.imgsz;
  Batch batch;
  batch.images = at::empty({n, 3, s, s});
  std::vector<float> targets;
  for (int64_t i = 0; i < n; ++i) {
    const size_t index = indices[static_cast<size_t>(i)];
    const AugmentedImage a = augmentedSample(*m_dataset, m_options, m_seed, index, epoch, augment);
    writeNetworkInput(a.image, batch.images[i].data_ptr<float>());
    for (const PixelBox& b : a.boxes) {
      targets.insert(targets.end(), {float(i), float(b.cls), (b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.x2 - b.x1,
                                     b.y2 - b.y1});
    }
    batch.indices.push_back(index);
  }
  const auto count = static_cast<int64_t>(targets.size() / 6);
  batch.targets = at::from_blob(targets.data(), {count, 6}, at::kFloat).clone();
  return batch;
}

}  // namespace prunelab
