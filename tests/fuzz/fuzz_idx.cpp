// Fashion-MNIST IDX files (data/in_memory_dataset.h: loadFashionMnist). The input holds
// both files of a split, images then labels, separated by "IDXSPLIT" (absent: the labels
// file is empty). Each is written as is: zlib's gzread reads plain bytes too, so seeds are
// either raw IDX (mutations reach the header checks) or gzip (they reach zlib).

#include "data/in_memory_dataset.h"
#include "fuzz_targets.h"

using namespace prunelab;

int fuzz::fuzz_idx(const uint8_t* data, size_t size) {
  const std::string bytes = fuzz::bytesOf(data, size);
  const size_t cut = bytes.find("IDXSPLIT");
  const std::string images = bytes.substr(0, cut);
  const std::string labels = cut == std::string::npos ? std::string() : bytes.substr(cut + 8);
  fuzz::writeScratch("train-images-idx3-ubyte.gz", images);
  fuzz::writeScratch("train-labels-idx1-ubyte.gz", labels);
  fuzz::parsesOrNamesFile("-idx", [&] {
    auto d = loadFashionMnist(fuzz::scratchDir(), true);
    if (d->size()) d->image(d->size() - 1);  // the last image lies inside the pixel block
  });
  return 0;
}
