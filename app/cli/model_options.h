#pragma once
// The model-selection options every model-reading command shares, bound to core's
// ModelRequest (its defaults are the ones --help shows).

#include <cstdint>
#include <cstdio>
#include <string>

#include "cli/command_line.h"
#include "models/model_loader.h"
#include "util/error.h"

namespace prunelab::cli {

struct ModelArgs {
  ModelRequest request;
  int threads = 0;  // configureThreads(): 0 = all cores
};

// Bounds on counts given on the command line: beyond them a value is a typo or an attack
// (--threads 100000 spawns that many threads), not a request.
inline constexpr int64_t kMaxClasses = 100000;
inline constexpr int64_t kMaxThreads = 1024;
inline constexpr int64_t kMaxInChannels = 32768;  // the YOLO YAML builder's channel bound

// `value` when it is in [lo, hi]; else prunelab::Error naming the option (exit code 1).
inline int64_t checkedCount(const char* option, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi)
    throw Error(option, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                            std::to_string(value));
  return value;
}

// What loading accepted but the user should see (NaN/Inf weights, stale ONNX tags), on stderr.
inline void printLoadWarnings(const ModelLoadReport& report) {
  for (const std::string& w : report.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
}

inline void addModelOptions(CommandLine& cl, ModelArgs& m) {
  CLI::App& a = cl.app();
  ModelRequest& r = m.request;
  a.add_option("--model", r.model, "built-in model name, YOLO .yaml, .plm checkpoint, .onnx file or yolov5/ultralytics .pt checkpoint")
      ->type_name("NAME|PATH")
      ->required();
  a.add_option_function<int64_t>(
       "--num-classes,--nc", [&r](const int64_t& v) { r.numClasses = checkedCount("--num-classes", v, 1, kMaxClasses); },
       "classes of a built-in or YAML model")
      ->type_name("N")
      ->default_str("the model's");
  a.add_option("--scale", r.scale, "YOLO YAML scale n/s/m/l/x")->type_name("S")->default_str("from the name, else the file's first");
  a.add_option_function<int64_t>(
       "--in-channels", [&r](const int64_t& v) { r.inChannels = checkedCount("--in-channels", v, 1, kMaxInChannels); },
       "input channels of a built-in model")
      ->type_name("N")
      ->default_str("3");
  a.add_option("--weights", r.weights, "torch.save(state_dict) file, .plm or yolov5/ultralytics .pt checkpoint to load")
      ->type_name("FILE");
  a.add_flag("--transfer", r.transfer,
             "copy only the --weights tensors whose name and shape match (automatic when the file's classes differ)");
  a.add_option_function<int64_t>(
       "--threads", [&m](const int64_t& v) { m.threads = static_cast<int>(checkedCount("--threads", v, 0, kMaxThreads)); },
       "intra-op threads")
      ->type_name("N")
      ->default_str("all cores");
}

}  // namespace prunelab::cli
