#pragma once
// Writing a (pruned) model back as a .pt its users' own code loads, validates, exports and
// fine-tunes: `torch.load(path, weights_only=False)` gives the objects the home trainer
// itself would have pickled for this architecture, with the pruned tensors and every
// width attribute that code reads.
//
//   yolov5        a dict as yolov5's train.py saves it (epoch, model: models.yolo.DetectionModel,
//                 ema/optimizer/updates None, opt, date...)  - model opened from a yolov5 .pt
//   ultralytics   the same as ultralytics' trainer saves it (model: ultralytics.nn.tasks.
//                 DetectionModel with C2f/C3k2/C2PSA/Detect..., train_args, version...) -
//                 model opened from an ultralytics .pt
//   torch         {"model": torchvision.models.resnet.ResNet, ...} for the zoo's ResNets
//                 (torchvision's and the CIFAR ones, which a torchvision ResNet object
//                 expresses exactly); a model opened from a .pt is written as its family's
//
// A model opened from a trainer's .pt is written back through the object tree it was read
// with (models/yolo/yolo_checkpoint.h keeps it): everything PruneLab did not change comes
// back as it was read; the changed tensors keep the file's dtype (the trainers save fp16).
// Every checkpoint also carries "pruned_by" (PruneLab's version and a plan summary) and,
// like the trainers' own strip_optimizer, epoch -1 and no optimizer state: the file starts
// a new run when given to `train --weights`, it does not resume one.
//
// Thread-safety: none needed (pure functions of their arguments).

#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "io/pickle_reader.h"
#include "io/state_dict.h"

namespace prunelab {

enum class PtFormat { Yolov5, Ultralytics, Torch };

const char* ptFormatName(PtFormat f);  // "yolov5", "ultralytics", "torch"
std::optional<PtFormat> parsePtFormat(const std::string& name);
// The format a model goes back to: the family of the .pt it was opened from, else torch.
PtFormat homeFormat(const Graph& graph);
// Empty when `graph` can be written as `format`, else why not (for menus and --help).
std::string ptFormatUnavailable(const Graph& graph, PtFormat format);

struct PtWriteOptions {
  std::string plan;  // a one-line summary of what was pruned, stored under pruned_by["plan"]
};

// What writing found out beyond the file itself.
struct PtWriteReport {
  // yolov5/ultralytics: the model's `yaml` dict (interop/checkpoint_yaml.h): rewritten to
  // the pruned widths when that loads more tensors on a rebuild; describeCheckpointYaml's line.
  std::string yaml;
  bool yamlComplete = true;  // a rebuild from the written yaml gives every tensor its shape
};

// Builds the checkpoint's object tree. Throws prunelab::Error naming the layer when the
// model cannot be expressed in `format` (ultralytics C2f halves of different widths, an
// attention block whose widths no longer agree with its heads, no object tree and no
// synthesiser for this architecture).
PyRef trainerCheckpointTree(const Graph& graph, PtFormat format, const PtWriteOptions& options,
                            PtWriteReport* report = nullptr);
// trainerCheckpointTree written with io/torch_save's writeTorchSave (atomically).
PtWriteReport writeTrainerCheckpoint(const Graph& graph, const std::string& path, PtFormat format,
                                     const PtWriteOptions& options);

// Reads a written checkpoint back without running anything: the model's state_dict (from
// "ema" when set, else "model") and every width attribute checked against its tensors
// (Conv2d in/out_channels and groups, BatchNorm num_features, Linear in/out_features,
// ultralytics C2f-family `c`): `problems` lists each disagreement by module path.
struct PtReadBack {
  std::string modelClass;
  StateDict stateDict;
  std::vector<std::string> problems;
};
PtReadBack readTrainerCheckpoint(const std::string& path);

}  // namespace prunelab
