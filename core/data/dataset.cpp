#include "data/dataset.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <random>

#include "data/image_folder_dataset.h"
#include "data/in_memory_dataset.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab {

namespace {

class SubsetDataset : public Dataset {
 public:
  SubsetDataset(DatasetPtr base, std::vector<size_t> indices) : m_base(std::move(base)), m_indices(std::move(indices)) {}
  size_t size() const override { return m_indices.size(); }
  ImageU8 image(size_t i) const override { return m_base->image(m_indices.at(i)); }
  int64_t label(size_t i) const override { return m_base->label(m_indices.at(i)); }
  int64_t numClasses() const override { return m_base->numClasses(); }
  std::vector<std::string> classNames() const override { return m_base->classNames(); }
  std::string description() const override {
    return m_base->description() + " (" + std::to_string(m_indices.size()) + " items)";
  }

 private:
  DatasetPtr m_base;
  std::vector<size_t> m_indices;
};

}  // namespace

DatasetPtr limitDataset(DatasetPtr base, size_t limit, uint64_t shuffleSeed) {
  if (limit == 0 || limit >= base->size()) return base;
  std::vector<size_t> idx(base->size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  if (shuffleSeed) std::shuffle(idx.begin(), idx.end(), std::mt19937_64(shuffleSeed));
  idx.resize(limit);
  return std::make_shared<SubsetDataset>(std::move(base), std::move(idx));
}

std::string defaultFashionMnistDir() {
  if (const char* env = std::getenv("PRUNELAB_FASHION_MNIST")) return env;
  return "/usr/share/datasets/fashion-mnist";
}

DatasetSplits openClassificationData(const std::string& spec) {
  if (spec == "fashion-mnist" || spec == "fashion_mnist") {
    const std::string dir = defaultFashionMnistDir();
    if (!fs::exists(dir)) throw Error(dir, "Fashion-MNIST not found (apt-get install dataset-fashion-mnist)");
    return {loadFashionMnist(dir, true), loadFashionMnist(dir, false)};
  }
  if (!fs::is_directory(spec)) throw Error(spec, "is not 'fashion-mnist' nor a dataset directory");
  if (fs::exists(fs::path(spec) / "data_batch_1.bin")) return {loadCifar10(spec, true), loadCifar10(spec, false)};
  if (fs::exists(fs::path(spec) / "train-images-idx3-ubyte.gz"))
    return {loadFashionMnist(spec, true), loadFashionMnist(spec, false)};
  const fs::path train = fs::path(spec) / "train";
  fs::path val = fs::path(spec) / "val";
  if (!fs::is_directory(val)) val = fs::path(spec) / "test";
  if (!fs::is_directory(train) || !fs::is_directory(val))
    throw Error(spec, "expected CIFAR-10 binary batches, Fashion-MNIST IDX files, or train/ and val/ class folders");
  auto trainSet = std::make_shared<ImageFolderDataset>(train.string(), 0, false);
  return {trainSet, std::make_shared<ImageFolderDataset>(val.string(), 0, false, trainSet->classNames())};
}

}  // namespace prunelab
