#pragma once
// Resolves the CLI's and GUI's `--model NAME|PATH [--weights FILE]` into a Graph:
//   a zoo name (resnet18, ...), a shipped YOLO config (yolov5s, yolov8n, yolo11n, ...), an
//   ultralytics-style model .yaml, a native checkpoint (.plm) or an ONNX file (.onnx, see
//   io/onnx_import.h). Weights: a torch.save(state_dict) file or a .plm.

#include <cstdint>
#include <string>

#include "graph/graph.h"
#include "graph/input_shape.h"  // defaultInputShape

namespace prunelab {

struct ModelRequest {
  std::string model;        // zoo name or file path
  int64_t numClasses = -1;  // zoo models only; -1 = default
  int64_t inChannels = -1;  // zoo models only; -1 = default (3)
  std::string weights;      // optional
  std::string scale;        // YOLO YAML with scales: n/s/m/l/x (default: from the name, else the first)
  uint64_t seed = 0;
};

// Throws prunelab::Error naming the model or file on failure.
Graph loadModel(const ModelRequest& request);

// Loads `path` (torch state_dict or .plm) into `graph` by key; see loadStateDict().
void loadWeights(Graph& graph, const std::string& path);

}  // namespace prunelab
