#include "cli/device_arg.h"

#include <algorithm>
#include <cctype>

#include "util/error.h"

namespace prunelab::cli {

std::string deviceArgument(const std::string& text) {
  if (text.find(',') != std::string::npos)
    throw Error("--device", "'" + text + "' names several GPUs; multi-GPU training in one process is not supported: "
                            "give one device (0, cuda:1, cpu) and run one process per GPU");
  const bool index = !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
  return index ? "cuda:" + text : text;
}

}  // namespace prunelab::cli
