#include "cli/data_options.h"

namespace prunelab::cli {

void addDataOptions(ArgParser& p) {
  const TaskSettings d;
  p.option("--data", true,
           "fashion-mnist (built-in), a CIFAR-10 binary dir, a dir with train/ and val/ class folders, "
           "or a YOLO data.yaml (detection)")
      .option("--task", true, "classify or detect (default: detect for a YOLO data.yaml)")
      .option("--train-limit", true, "use only N training images (seeded subset)")
      .option("--val-limit", true, "use only N validation images")
      .option("--seed", true, "seed for initialisation, data order, subsets and augmentation (default 0)")
      .option("--imgsz", true, "detection: square input size, multiple of 32 (default: the model's, else 640)")
      .option("--mosaic", true, "detection: mosaic probability (default " + std::to_string(d.mosaic).substr(0, 3) + ")")
      .option("--close-mosaic", true, "detection: last N epochs without mosaic (default " + std::to_string(d.closeMosaic) + ")")
      .option("--conf", true, "detection: confidence threshold for mAP (default 0.001)")
      .option("--iou", true, "detection: NMS IoU threshold (default 0.7, v5 heads 0.6)");
}

DataSpec dataSpec(const ArgParser& p) {
  DataSpec s;
  s.spec = p.get("--data", "fashion-mnist");
  s.task = p.get("--task");
  s.trainLimit = p.getInt("--train-limit", 0);
  s.valLimit = p.getInt("--val-limit", 0);
  s.seed = static_cast<uint64_t>(p.getInt("--seed", 0));
  return s;
}

TaskSettings taskSettings(const ArgParser& p) {
  TaskSettings t;
  t.imgsz = p.getInt("--imgsz", 0);
  t.mosaic = p.getDouble("--mosaic", t.mosaic);
  t.closeMosaic = static_cast<int>(p.getInt("--close-mosaic", t.closeMosaic));
  t.confidence = p.getDouble("--conf", t.confidence);
  t.iou = p.getDouble("--iou", t.iou);
  t.labelSmoothing = p.getDouble("--label-smoothing", 0.0);
  return t;
}

}  // namespace prunelab::cli
