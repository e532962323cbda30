#pragma once
// Exporting the current model, checked: every front end (prunelab-cli export, the
// workbench's Export panel, the story) writes through exportModel, which writes the file
// and then reads it back and compares it with the model before it reports success.
//
//   native       .plm                 read back with loadCheckpoint, run beside the model
//   onnx         .onnx (opset 13-17)  read back by the generic ONNX importer, run beside the model
//   torchscript  .pt/.ts              torch::jit::load, run beside the model
//   yolov5, ultralytics, torch        a .pt for the user's own stack (interop/trainer_checkpoint.h):
//                read back without running anything; every width attribute checked against
//                its tensors; yolov5/ultralytics rebuilt from the file and run beside the
//                model, torch's tensors compared with the model's
//
// Thread: whichever thread owns the graph (the workbench's worker); no shared state.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "io/onnx_export.h"

namespace prunelab {

struct ExportRequest {
  std::string format;  // native, onnx, torchscript, yolov5, ultralytics, torch, or pt (the model's own .pt family)
  std::string out;
  Shape inputChw;      // empty: the model's default input
  OnnxExportOptions onnx;
  bool check = true;   // read back and compare
  std::string plan;    // a summary of the cut, stored in .pt checkpoints ("pruned_by")
};

struct ExportResult {
  std::string format;  // resolved: "pt" becomes yolov5/ultralytics/torch
  std::string out;
  uint64_t bytes = 0;
  int64_t params = 0;
  Shape inputChw;
  double writeSeconds = 0;           // writing the file alone (no load, no check)
  std::optional<double> maxRelDiff;  // empty: not checked
  std::string check;                 // what the read-back compared, for the message
  // yolov5/ultralytics .pt: whether the model's yaml states the pruned widths (a line for
  // the user: interop/checkpoint_yaml.h's describeCheckpointYaml), and whether it does whole.
  std::string yaml;
  bool yamlComplete = true;
};

// Every format name exportModel accepts, for --help and menus.
const std::vector<std::string>& exportFormats();
// The format an output path implies (.onnx, .plm, .ts/.torchscript; .pt: the model's own
// .pt family when it has one, else TorchScript). Throws prunelab::Error naming the path.
std::string exportFormatFromPath(const Graph& graph, const std::string& out);

// Writes and (unless request.check is false) verifies. Throws prunelab::Error naming the
// file or the layer on failure (the read-back differing by more than 1e-3 relative, a
// width attribute that disagrees with its tensors, a model the format cannot express).
ExportResult exportModel(const Graph& graph, const ExportRequest& request);

}  // namespace prunelab
