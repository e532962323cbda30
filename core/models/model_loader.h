#pragma once
// Resolves the CLI's and GUI's `--model NAME|PATH [--weights FILE]` into a Graph:
//   a zoo name (resnet18, ...), a shipped YOLO config (yolov5s, yolov8n, yolo11n, ...), an
//   ultralytics-style model .yaml, a native checkpoint (.plm) or an ONNX file (.onnx, see
//   io/onnx_import.h), or a yolov5/ultralytics training checkpoint (.pt, see
//   models/yolo/yolo_checkpoint.h). Weights: a torch.save(state_dict) file, a .plm or
//   such a checkpoint.
//
// Transfer: a checkpoint (or --weights) made for other classes than asked (numClasses,
// e.g. the data's) builds the model for the classes asked and copies every tensor whose
// key and shape match; ModelLoadReport says how many and which were skipped. `transfer`
// asks for the same with any weights file (a plain state_dict does not record its classes).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/input_shape.h"  // defaultInputShape
#include "io/state_dict.h"       // TransferReport

namespace prunelab {

struct ModelRequest {
  std::string model;        // zoo name or file path
  int64_t numClasses = -1;  // zoo models only; -1 = default
  int64_t inChannels = -1;  // zoo models only; -1 = default (3)
  std::string weights;      // optional
  std::string scale;        // YOLO YAML with scales: n/s/m/l/x (default: from the name, else the first)
  uint64_t seed = 0;
  bool transfer = false;    // copy the matching tensors of `weights` instead of requiring all
};

// What loading did besides building the graph, for the front ends to show.
struct ModelLoadReport {
  std::string transferSource;              // the file tensors were transferred from
  std::optional<TransferReport> transfer;  // set when weights were transferred
  int64_t sourceClasses = -1;              // classes of that file, when it says
  // Things loading accepted but the user should know: tensors holding NaN or Inf
  // ("file: 3 tensors hold NaN/Inf values: ..."), PruneLab tags that no longer match an
  // edited ONNX graph. Not part of lines(): the CLI prints them to stderr, the workbench
  // logs them as warnings.
  std::vector<std::string> warnings;
  std::vector<std::string> lines() const;  // "transferred 319/355 tensors from ...", "  skipped ..."
};

// Throws prunelab::Error naming the model or file on failure. Every graph, whatever its
// source, passes its ops' shape rules once here at its recorded input shape (that is
// where a 0 stride or a weight of the wrong rank is refused), and its tensors are scanned
// for NaN/Inf (a warning in `report`, not an error: such a file can still be inspected).
Graph loadModel(const ModelRequest& request, ModelLoadReport* report = nullptr);

// Loads `path` (torch state_dict, .plm or yolov5/ultralytics checkpoint) into `graph` by
// key; see loadStateDict(). With `transfer`, or when the file's classes differ from the
// graph's, only the matching tensors are copied (transferStateDict) and `report` says so.
void loadWeights(Graph& graph, const std::string& path, bool transfer = false, ModelLoadReport* report = nullptr);

}  // namespace prunelab
