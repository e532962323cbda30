#pragma once
// A yolov5 / ultralytics training checkpoint (io/yolo_pt_checkpoint.h) -> Graph: the
// architecture from the model's own `yaml` dict through the YAML builder, the weights
// from its module tree (fp16/bf16 to fp32), the class names in the graph's metadata.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "io/state_dict.h"
#include "io/yolo_pt_checkpoint.h"

namespace prunelab {

// Metadata keys of a model opened from a trainer's .pt: its family ("yolov5",
// "ultralytics") and its object tree as io/torch_save's packPyTree of
// trainerCheckpointTemplate (written back by interop/trainer_checkpoint.h). Not shown to
// users and not exported to ONNX.
inline constexpr const char* kPtFamilyKey = "pt.family";
inline constexpr const char* kPtTemplateKey = "pt.template";

// Builds the checkpoint's model. With `nc` > 0 and other than the checkpoint's, the model
// is built for `nc` classes (the same yaml, nc replaced) and every tensor whose key and
// shape match is copied (*transfer says which were not); otherwise all weights must load
// (a mismatch is an Error naming `path`). `path` names the file in errors and metadata.
Graph buildFromYoloCheckpoint(const YoloPtCheckpoint& checkpoint, const std::string& path, int64_t nc,
                              std::optional<TransferReport>* transfer = nullptr);

// Class names kept in metadata["names"] (a JSON array); empty when the model has none.
std::vector<std::string> classNames(const Graph& graph);
void setClassNames(Graph& graph, const std::vector<std::string>& names);

}  // namespace prunelab
