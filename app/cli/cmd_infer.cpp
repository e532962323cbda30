// prunelab-cli infer: .npy in, .npy out.

#include <ATen/ATen.h>

#include <filesystem>
#include <iostream>

#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "exec/inference.h"
#include "exec/runtime.h"
#include "util/error.h"
#include "util/npy.h"

namespace prunelab::cli {

int runInfer(int argc, char** argv) {
  ArgParser p;
  addModelOptions(p);
  p.option("--input", true, "input tensor (.npy, float32, NxCxHxW or CxHxW)")
      .option("--output", true, "output .npy (single-output models)")
      .option("--output-dir", true, "directory for output0.npy, output1.npy, ... in graph-output order")
      .option("--device", true, "cpu, cuda, cuda:N or auto (default cpu)")
      .option("--help", false, "show this help");
  p.parse(argc, argv, 2);
  if (p.has("--help")) {
    std::cout << "usage: prunelab-cli infer --model NAME|PATH --input x.npy (--output y.npy | --output-dir DIR)\n\n"
              << p.help();
    return 0;
  }
  if (p.has("--output") == p.has("--output-dir")) throw Error("--output", "give exactly one of --output, --output-dir");
  configureThreads(static_cast<int>(p.getInt("--threads", 0)));
  const std::string device = resolveDevice(p.get("--device", "cpu"));

  Graph g = loadModel(modelRequest(p));
  const std::string inputPath = p.require("--input");
  at::Tensor x = readNpy(inputPath);
  if (!x.is_floating_point()) throw Error(inputPath, "input must be float32");
  x = x.to(at::kFloat);
  if (x.dim() == 3) x = x.unsqueeze(0);
  const std::vector<at::Tensor> outputs = runInference(g, {x}, device);

  if (p.has("--output")) {
    if (outputs.size() != 1)
      throw Error("--output", "model has " + std::to_string(outputs.size()) + " outputs: use --output-dir");
    writeNpy(p.get("--output"), outputs[0]);
  } else {
    const std::string dir = p.get("--output-dir");
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < outputs.size(); ++i)
      writeNpy((std::filesystem::path(dir) / ("output" + std::to_string(i) + ".npy")).string(), outputs[i]);
  }
  return 0;
}

}  // namespace prunelab::cli
