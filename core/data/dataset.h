#pragma once
// Classification datasets: an indexable collection of (image, label) pairs.
//
// Contract
// - Images are returned as uint8 HWC bytes (H x W x C, C = 1 or 3) so transforms work
//   on cheap byte buffers; the loader converts to float CHW at the end.
// - get() is const and thread-safe: loader threads call it concurrently.
// - Labels are in [0, numClasses()); a file with a label out of range is rejected at
//   load time with an error naming the file.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace prunelab {

struct ImageU8 {
  int height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // H x W x C, row-major
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // Throws prunelab::Error naming the file when an image cannot be decoded.
  virtual ImageU8 image(size_t index) const = 0;
  virtual int64_t label(size_t index) const = 0;
  virtual int64_t numClasses() const = 0;
  virtual std::vector<std::string> classNames() const = 0;
  virtual std::string description() const = 0;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// A view of the first `limit` items (or a seeded random subset with `shuffleSeed`).
DatasetPtr limitDataset(DatasetPtr base, size_t limit, uint64_t shuffleSeed = 0);

struct DatasetSplits {
  DatasetPtr train;
  DatasetPtr val;
};

// "fashion-mnist" (the built-in data), a CIFAR-10 binary directory, or an image-folder
// root with train/ and val/ (or test/) subfolders of one folder per class.
DatasetSplits openClassificationData(const std::string& spec);

std::string defaultFashionMnistDir();  // /usr/share/datasets/fashion-mnist (or $PRUNELAB_FASHION_MNIST)

}  // namespace prunelab
