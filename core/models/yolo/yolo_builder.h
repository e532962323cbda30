#pragma once
// Ultralytics-style YOLO model YAML -> Graph, with scope names equal to the PyTorch
// state_dict keys of the ultralytics/yolov5 (anchor-based, `anchors:` +
// depth_multiple/width_multiple) and ultralytics/ultralytics (YOLOv8/YOLO11, `scales:`)
// model definitions, e.g. "model.2.cv1.conv.weight".
//
// Modules: Conv, Bottleneck, C3, C2f, C3k, C3k2, SPPF, C2PSA, Concat, nn.Upsample,
// Detect (anchor-based for yolov5 files, DFL for the others).
// Graph outputs: the raw head output of every level in the ecosystem's layout
// (v5: bs x na x ny x nx x (nc+5); v8/11: bs x (4*reg_max+nc) x ny x nx), then the
// decoded predictions (DetectDecode).

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct YoloOptions {
  int64_t nc = -1;         // -1: the file's nc
  std::string scale;       // n/s/m/l/x for files with `scales:`; empty: from the name or the first
  int64_t inChannels = 3;
  int64_t inputSize = 640;  // recorded as the default input
  // Conv/Linear weight elements in all: YOLOv8x has 68M; beyond this a YAML is refused
  // before it allocates (GraphBuilder::setWeightBudget).
  int64_t maxWeights = int64_t{1} << 30;
  // false: zero weights (GraphBuilder::setRandomInit), for a build that is only analysed.
  bool randomInit = true;
};

// `source` names the file in errors. Throws prunelab::Error for malformed YAML,
// unknown modules or inconsistent channels, naming the layer index.
Graph buildYoloFromYaml(const std::string& yamlText, const std::string& source, const YoloOptions& options);
Graph buildYoloFromFile(const std::string& path, const YoloOptions& options);

// Shipped configs: yolov5n/s, yolov8n/s, yolo11n/s (and the other scales of v8/11).
bool isYoloModelName(const std::string& name);
// The YOLO names the workbench's model menu offers (the rest are reachable by name).
std::vector<std::string> featuredYoloModels();
Graph buildYoloModel(const std::string& name, const YoloOptions& options);
std::string yoloResourceDir();  // $PRUNELAB_RESOURCES/models, the source tree, or /usr/share/prunelab/models

}  // namespace prunelab
