#pragma once
// The model-selection options every subcommand shares.

#include "cli/arg_parser.h"
#include "models/model_loader.h"

namespace prunelab::cli {

inline void addModelOptions(ArgParser& p) {
  p.option("--model", true, "built-in model name, YOLO .yaml, .plm checkpoint or .onnx file")
      .option("--num-classes", true, "classes of a built-in or YAML model (default: the model's)")
      .option("--nc", true, "same as --num-classes")
      .option("--scale", true, "YOLO YAML scale n/s/m/l/x (default: from the name, else the file's first)")
      .option("--in-channels", true, "input channels of a built-in model (default 3)")
      .option("--weights", true, "torch.save(state_dict) file or .plm checkpoint to load")
      .option("--threads", true, "intra-op threads (default: all cores)");
}

inline ModelRequest modelRequest(const ArgParser& p) {
  ModelRequest r;
  r.model = p.require("--model");
  r.numClasses = p.getInt("--num-classes", p.getInt("--nc", -1));
  r.scale = p.get("--scale");
  r.inChannels = p.getInt("--in-channels", -1);
  r.weights = p.get("--weights");
  return r;
}

}  // namespace prunelab::cli
