// The per-layer ratio file of `prune --ratios` (app/cli/ratio_file.h).

#include "cli/ratio_file.h"
#include "fuzz_targets.h"

using namespace prunelab;

int fuzz::fuzz_ratios(const uint8_t* data, size_t size) {
  double fallback = 0;
  fuzz::parsesOrNamesFile("ratios.yaml", [&] { cli::parseRatios(fuzz::bytesOf(data, size), "ratios.yaml", fallback); });
  return 0;
}
