#pragma once
// The model-selection options every model-reading command shares, bound to core's
// ModelRequest (its defaults are the ones --help shows).

#include "cli/command_line.h"
#include "models/model_loader.h"

namespace prunelab::cli {

struct ModelArgs {
  ModelRequest request;
  int threads = 0;  // configureThreads(): 0 = all cores
};

inline void addModelOptions(CommandLine& cl, ModelArgs& m) {
  CLI::App& a = cl.app();
  ModelRequest& r = m.request;
  a.add_option("--model", r.model, "built-in model name, YOLO .yaml, .plm checkpoint, .onnx file or yolov5/ultralytics .pt checkpoint")
      ->type_name("NAME|PATH")
      ->required();
  a.add_option("--num-classes,--nc", r.numClasses, "classes of a built-in or YAML model")
      ->type_name("N")
      ->default_str("the model's");
  a.add_option("--scale", r.scale, "YOLO YAML scale n/s/m/l/x")->type_name("S")->default_str("from the name, else the file's first");
  a.add_option("--in-channels", r.inChannels, "input channels of a built-in model")->type_name("N")->default_str("3");
  a.add_option("--weights", r.weights, "torch.save(state_dict) file, .plm or yolov5/ultralytics .pt checkpoint to load")
      ->type_name("FILE");
  a.add_flag("--transfer", r.transfer,
             "copy only the --weights tensors whose name and shape match (automatic when the file's classes differ)");
  a.add_option("--threads", m.threads, "intra-op threads")->type_name("N")->default_str("all cores");
}

}  // namespace prunelab::cli
