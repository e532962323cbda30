#pragma once
// yolov5 and ultralytics (YOLOv8, YOLO11) training checkpoints as their trainers save
// them: a dict whose "ema" (when not None) or "model" is a whole pickled DetectionModel.
// Read here, without running anything (io/torch_pickle's allow-list), into what PruneLab
// needs to rebuild the model: the architecture as the model's own `yaml` dict, the
// weights from its module tree, the class names and a few facts for `info`.
// models/yolo/yolo_checkpoint.h turns this into a Graph (io sits below models).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/pickle_reader.h"
#include "io/state_dict.h"

namespace prunelab {

struct YoloPtCheckpoint {
  std::string family;       // "yolov5" (models.yolo.*) or "ultralytics" (ultralytics.nn.tasks.*)
  std::string modelClass;   // e.g. "ultralytics.nn.tasks.DetectionModel"
  std::string taken;        // "ema" or "model": which entry the weights came from
  std::string yamlText;     // the model's `yaml` dict written as YAML (JSON flow style)
  std::string scale;        // the dict's "scale" (ultralytics), else ""
  int64_t nc = -1;          // the dict's "nc"
  int64_t inChannels = 3;   // the dict's "ch", else 3
  std::vector<std::string> names;  // the model's `names` (list or {index: name}), else empty
  StateDict stateDict;      // module.state_dict() of the taken model, in the file's dtype (often fp16)
  std::map<std::string, std::string> facts;  // epoch, date, version, best_fitness... when present
  PyRef root;               // the whole pickled checkpoint as read (dict, or the bare model)
  PyRef model;              // the taken model object inside it
};

// The checkpoint as a template for writing a changed model back in the trainer's own
// format (interop/trainer_checkpoint.h): the root dict with the taken model under "model",
// "ema" and "optimizer" None (an EMA and optimizer state of the old widths would be wrong),
// and every parameter and buffer of the model's module tree replaced by an empty tensor
// of its dtype (the weights live in the Graph). Everything else is kept as read: other
// attributes, the `yaml` dict, `args`, a loss object left on the model. The checkpoint's
// own values are not modified (the copy shares what it does not change).
PyRef trainerCheckpointTemplate(const YoloPtCheckpoint& checkpoint);

// Whole-model checkpoint in an already read pickle; nullopt when `root` is not one (a plain
// state_dict, say). Throws prunelab::Error naming `path` when it is one but is malformed
// (no `yaml` dict, no module tree, a model class PruneLab cannot build).
std::optional<YoloPtCheckpoint> yoloCheckpointFromPickle(const PyRef& root, const std::string& path);

// Reads `path`; throws prunelab::Error naming it when the file is not such a checkpoint.
YoloPtCheckpoint readYoloPtCheckpoint(const std::string& path);

// A pickled plain value (dicts, lists, tuples, strings, numbers, bools, None) as YAML in
// JSON flow style, which yaml-cpp reads back; anything else is an Error naming `path`.
std::string pyToYaml(const PyRef& value, const std::string& path);

}  // namespace prunelab
