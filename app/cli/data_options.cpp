#include "cli/detection_options.h"

#include <filesystem>

#include "models/model_loader.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab::cli {

void addDetectionOptions(ArgParser& p) {
  p.option("--task", true, "classify or detect (default: detect for a YOLO data.yaml)")
      .option("--imgsz", true, "detection: square input size, multiple of 32 (default: the model's, else 640)")
      .option("--mosaic", true, "detection: mosaic probability (default 1.0)")
      .option("--close-mosaic", true, "detection: last N epochs without mosaic (default 10)")
      .option("--conf", true, "detection: confidence threshold for mAP (default 0.001)")
      .option("--iou", true, "detection: NMS IoU threshold (default 0.7, v5 heads 0.6)");
}

bool isYoloData(const std::string& spec) {
  const fs::path p(spec);
  if (p.extension() == ".yaml" || p.extension() == ".yml") return true;
  return fs::is_directory(p) && fs::exists(p / "data.yaml");
}

bool wantsDetection(const ArgParser& p) {
  if (p.has("--task")) {
    const std::string t = p.get("--task");
    if (t != "detect" && t != "classify") throw Error("--task", "must be classify or detect, got '" + t + "'");
    return t == "detect";
  }
  return isYoloData(p.get("--data", "fashion-mnist"));
}

DetectionSplits openDetectionData(const ArgParser& p) {
  const std::string spec = p.get("--data");
  if (spec.empty() || !isYoloData(spec))
    throw Error("--data", "detection needs a YOLO data.yaml (make one with: prunelab-cli make-dataset fashion-det --out DIR)");
  return openYoloData(spec, static_cast<size_t>(p.getInt("--train-limit", 0)),
                      static_cast<size_t>(p.getInt("--val-limit", 0)));
}

int64_t detectionImageSize(const ArgParser& p, const Graph& graph) {
  if (p.has("--imgsz")) return p.getInt("--imgsz", 640);
  const Shape s = defaultInputShape(graph);
  return s.size() == 3 ? s[1] : 640;
}

DetectionTaskOptions detectionTaskOptions(const ArgParser& p, const Graph& graph) {
  const int64_t imgsz = detectionImageSize(p, graph);
  const bool v5 = detect::readYoloHead(graph).style == "v5";
  DetectionTaskOptions o;
  o.augment.imgsz = static_cast<int>(imgsz);
  o.augment.mosaic = p.getDouble("--mosaic", 1.0);
  o.closeMosaic = static_cast<int>(p.getInt("--close-mosaic", 10));
  o.post.confidence = static_cast<float>(p.getDouble("--conf", 0.001));
  o.post.iou = static_cast<float>(p.getDouble("--iou", v5 ? 0.6 : 0.7));
  o.valBatch = std::max<int64_t>(p.getInt("--batch", 16), 32);
  return o;
}

}  // namespace prunelab::cli
