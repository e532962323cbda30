// NumPy .npy (util/npy.h), as the CLI's infer command reads an input tensor.

#include <sstream>

#include "fuzz_targets.h"
#include "util/npy.h"

using namespace prunelab;

int fuzz::fuzz_npy(const uint8_t* data, size_t size) {
  std::istringstream in(fuzz::bytesOf(data, size));
  fuzz::parsesOrNamesFile("fuzz.npy", [&] { readNpy(in, "fuzz.npy"); });
  return 0;
}
