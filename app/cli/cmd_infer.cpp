// prunelab-cli infer: .npy in, .npy out.

#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/device_arg.h"
#include "cli/model_options.h"
#include "exec/inference.h"
#include "exec/runtime.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/npy.h"

namespace prunelab::cli {

namespace {

// NaN/Inf in the input make every output NaN: a sensor or preprocessing fault the user
// may still want to run through, so a warning, not an error.
void warnAboutNonFinite(const at::Tensor& x, const std::string& path) {
  const int64_t bad = (~at::isfinite(x)).sum().item<int64_t>();
  if (bad == 0) return;
  std::fprintf(stderr, "warning: %s: %lld of %lld input values are NaN/Inf; the outputs will be NaN/Inf too\n",
               path.c_str(), static_cast<long long>(bad), static_cast<long long>(x.numel()));
}

}  // namespace

int runInfer(int argc, char** argv) {
  CommandLine cl("infer", "--model NAME|PATH --input x.npy (--output y.npy | --output-dir DIR) [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  std::string inputPath, output, outputDir, device = kDefaultDevice;
  CLI::App& a = cl.app();
  a.add_option("--input", inputPath, "input tensor (.npy, float32, NxCxHxW or CxHxW)")->type_name("FILE")->required();
  a.add_option("--output", output, "output .npy (single-output models)")->type_name("FILE");
  a.add_option("--output-dir", outputDir, "directory for output0.npy, output1.npy, ... in graph-output order")
      ->type_name("DIR");
  a.add_option("--device", device, "cpu, cuda, cuda:N, N (= cuda:N) or auto")->type_name("DEV")->capture_default_str();
  if (!cl.parse(argc, argv)) return 0;
  if (cl.has("--output") == cl.has("--output-dir")) throw Error("--output", "give exactly one of --output, --output-dir");
  configureThreads(model.threads);
  const std::string dev = resolveDevice(deviceArgument(device));

  ModelLoadReport loaded;
  Graph g = loadModel(model.request, &loaded);
  printLoadWarnings(loaded);
  at::Tensor x = readNpy(inputPath);
  if (!x.is_floating_point()) throw Error(inputPath, "input must be float32");
  x = x.to(at::kFloat);
  if (x.dim() == 3) x = x.unsqueeze(0);
  warnAboutNonFinite(x, inputPath);
  const std::vector<at::Tensor> outputs = runInference(g, {x}, dev);

  if (cl.has("--output")) {
    if (outputs.size() != 1)
      throw Error("--output", "model has " + std::to_string(outputs.size()) + " outputs: use --output-dir");
    writeNpy(output, outputs[0]);
  } else {
    const std::string& dir = outputDir;
    createDirectories(dir);
    for (size_t i = 0; i < outputs.size(); ++i)
      writeNpy((std::filesystem::path(dir) / ("output" + std::to_string(i) + ".npy")).string(), outputs[i]);
  }
  return 0;
}

}  // namespace prunelab::cli
