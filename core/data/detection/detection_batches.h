#pragma once
// Batches for detector training and evaluation (a BatchSource for DataLoader).
//
// Batch.images: float32 [B, 3, imgsz, imgsz], RGB in [0, 1] (no mean/std, as ultralytics).
// Batch.targets: float32 [N, 6] = (image in batch, class, cx, cy, w, h) in pixels of the
// network input. Evaluation letterboxes; metrics are computed in that input space
// (IoU is unchanged by the letterbox's uniform scale and shift).

#include "data/batch_source.h"
#include "data/detection/detection_augment_options.h"
#include "data/detection/detection_dataset.h"

namespace cv {
class Mat;
}

namespace prunelab {

class DetectionBatches : public BatchSource {
 public:
  DetectionBatches(DetectionDatasetPtr dataset, DetectAugmentOptions options, uint64_t seed);
  size_t size() const override { return m_dataset->size(); }
  Batch assemble(const std::vector<size_t>& indices, int epoch, bool augment) const override;
  std::string description() const override { return m_dataset->description(); }
  const DetectionDataset& dataset() const { return *m_dataset; }

  struct Sample {
    ImageU8 image;  // RGB, imgsz x imgsz
    std::vector<PixelBox> boxes;
  };
  // One sample as the batch would hold it (exposed for tests and previews).
  Sample sample(size_t index, int epoch, bool augment) const;

 private:
  DetectionDatasetPtr m_dataset;
  DetectAugmentOptions m_options;
  uint64_t m_seed;
};

// One network input from an RGB CV_8UC3 image of h x w: writes 3*h*w floats, CHW, in
// [0, 1] (the detectors' input scaling) to `out`.
void writeNetworkInput(const cv::Mat& rgb, float* out);

}  // namespace prunelab
