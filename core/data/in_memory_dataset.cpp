#include "data/in_memory_dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace prunelab {

InMemoryDataset::InMemoryDataset(std::vector<uint8_t> pixels, std::vector<int64_t> labels, int height, int width,
                                 int channels, std::vector<std::string> classNames, std::string description)
    : m_pixels(std::move(pixels)), m_labels(std::move(labels)), m_height(height), m_width(width),
      m_channels(channels), m_classNames(std::move(classNames)), m_description(std::move(description)) {}

ImageU8 InMemoryDataset::image(size_t index) const {
  ImageU8 img;
  img.height = m_height;
  img.width = m_width;
  img.channels = m_channels;
  const size_t n = static_cast<size_t>(m_height) * m_width * m_channels;
  const auto begin = m_pixels.begin() + static_cast<long>(index * n);
  img.pixels.assign(begin, begin + static_cast<long>(n));
  return img;
}

namespace {

std::string readGzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(path, "cannot open file");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw Error(path, "corrupt gzip data");
  return out;
}

uint32_t bigEndian32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kCifarClasses = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

}  // namespace

std::shared_ptr<InMemoryDataset> loadFashionMnist(const std::string& dir, bool train) {
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  const std::string imagesPath = prefix + "-images-idx3-ubyte.gz";
  const std::string labelsPath = prefix + "-labels-idx1-ubyte.gz";
  const std::string images = readGzip(imagesPath);
  const std::string labels = readGzip(labelsPath);
  if (images.size() < 16 || bigEndian32(images, 0) != 0x803) throw Error(imagesPath, "not an IDX image file");
  if (labels.size() < 8 || bigEndian32(labels, 0) != 0x801) throw Error(labelsPath, "not an IDX label file");
  const uint32_t n = bigEndian32(images, 4), h = bigEndian32(images, 8), w = bigEndian32(images, 12);
  if (bigEndian32(labels, 4) != n) throw Error(labelsPath, "label count differs from the image count");
  // The header's counts are checked against the bytes actually there, in 64-bit steps that
  // cannot overflow (each count is below 2^32), before anything is sized from them.
  if (h == 0 || w == 0 || h > 65535 || w > 65535)
    throw Error(imagesPath, "image size " + std::to_string(h) + "x" + std::to_string(w) + " is not 1..65535 per side");
  if (n > (images.size() - 16) / (size_t(h) * w)) throw Error(imagesPath, "file is truncated");
  if (labels.size() < 8 + size_t(n)) throw Error(labelsPath, "file is truncated");
  std::vector<uint8_t> pixels(images.begin() + 16, images.begin() + 16 + long(n) * h * w);
  std::vector<int64_t> y(n);
  for (uint32_t i = 0; i < n; ++i) {
    y[i] = uint8_t(labels[8 + i]);
    if (y[i] >= 10) throw Error(labelsPath, "label " + std::to_string(y[i]) + " at item " + std::to_string(i) + " is out of range 0-9");
  }
  return std::make_shared<InMemoryDataset>(std::move(pixels), std::move(y), int(h), int(w), 1, kFashionClasses,
                                           std::string("Fashion-MNIST ") + (train ? "train" : "test"));
}

std::shared_ptr<InMemoryDataset> loadCifar10(const std::string& dir, bool train) {
  std::vector<std::string> files;
  if (train)
    for (int i = 1; i <= 5; ++i) files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  else
    files.push_back(dir + "/test_batch.bin");
  constexpr size_t kRecord = 1 + 32 * 32 * 3;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path, "cannot open file");
    std::string data((std::istreambuf_iterator<char>(in)), {});
    if (data.empty() || data.size() % kRecord) throw Error(path, "size is not a multiple of 3073-byte records");
    for (size_t r = 0; r < data.size() / kRecord; ++r) {
      const auto* rec = reinterpret_cast<const uint8_t*>(data.data() + r * kRecord);
      if (rec[0] >= 10) throw Error(path, "label " + std::to_string(rec[0]) + " in record " + std::to_string(r) + " is out of range 0-9");
      labels.push_back(rec[0]);
      // CIFAR stores planes (R, G, B); we keep HWC.
      const size_t base = pixels.size();
      pixels.resize(base + 32 * 32 * 3);
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 32 * 32; ++p) pixels[base + size_t(p) * 3 + size_t(c)] = rec[1 + c * 1024 + p];
    }
  }
  return std::make_shared<InMemoryDataset>(std::move(pixels), std::move(labels), 32, 32, 3, kCifarClasses,
                                           std::string("CIFAR-10 ") + (train ? "train" : "test"));
}

}  // namespace prunelab
