#pragma once
// Datasets held in memory as one contiguous byte block (Fashion-MNIST, CIFAR-10).

#include "data/dataset.h"

namespace prunelab {

class InMemoryDataset : public Dataset {
 public:
  InMemoryDataset(std::vector<uint8_t> pixels, std::vector<int64_t> labels, int height, int width, int channels,
                  std::vector<std::string> classNames, std::string description);

  size_t size() const override { return m_labels.size(); }
  ImageU8 image(size_t index) const override;
  int64_t label(size_t index) const override { return m_labels.at(index); }
  int64_t numClasses() const override { return static_cast<int64_t>(m_classNames.size()); }
  std::vector<std::string> classNames() const override { return m_classNames; }
  std::string description() const override { return m_description; }

 private:
  std::vector<uint8_t> m_pixels;  // N x H x W x C
  std::vector<int64_t> m_labels;
  int m_height, m_width, m_channels;
  std::vector<std::string> m_classNames;
  std::string m_description;
};

// Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, ...), `train` or t10k split.
std::shared_ptr<InMemoryDataset> loadFashionMnist(const std::string& dir, bool train);

// CIFAR-10 binary batches (data_batch_1..5.bin or test_batch.bin) in `dir`.
std::shared_ptr<InMemoryDataset> loadCifar10(const std::string& dir, bool train);

}  // namespace prunelab
