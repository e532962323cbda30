#pragma once
// The per-epoch run log: results.csv and log.jsonl, both rewritten atomically after every
// epoch, so a crash never leaves half a row.
//
// results.csv starts with ultralytics' columns for the task, named and ordered as its
// trainer writes them (ultralytics 8.3, engine/trainer.py save_metrics: epoch, time, the
// loss items as train/..., the validator's metrics and val/... losses, lr/pg0..2):
//   detect:   epoch, time, train/box_loss, train/cls_loss, train/dfl_loss, metrics/precision(B),
//             metrics/recall(B), metrics/mAP50(B), metrics/mAP50-95(B), val/box_loss,
//             val/cls_loss, val/dfl_loss, lr/pg0, lr/pg1, lr/pg2
//             (a YOLOv5 head's objectness loss takes dfl's place: train/obj_loss, val/obj_loss)
//   classify: epoch, time, train/loss, metrics/accuracy_top1, metrics/accuracy_top5, val/loss,
//             lr/pg0, lr/pg1, lr/pg2
// then PruneLab's own (kOwn... in run_log.cpp): train/top1 or train/loss, val/loss and
// fitness (detect), sr, sparse_fraction (|gamma| below the sparsity threshold, 0.01 unless
// the sr autopilot sets another), sparse_target (the autopilot's target; empty without
// it), BN-gamma statistics, time_s, images_per_s; a distilled run ends with train/ce_loss
// (classify) and train/kd_loss (train/distillation.h).
// time is the sum of the epochs' time_s so far (a resumed run counts the logged epochs).
// lr/pg0..2 all hold the base lr: PruneLab gives weights, BN parameters and biases the same
// schedule (no separate bias warm-up), before any --lr-mult. A value that was not computed
// (validation skipped by --val-every) is an empty cell, never a 0.

#include <string>
#include <vector>

#include "train/train_observer.h"

namespace prunelab {

class RunLog {
 public:
  // Opens runDir's log; with `keepExisting`, previous rows are kept (resume).
  void open(const std::string& runDir, bool keepExisting);
  // Drops rows of epochs after `epoch` (0-based; -1 drops all): a resumed run replays them.
  void truncateAfter(int epoch);
  void append(const EpochStats& stats);

  // The CSV columns of a run whose first log.jsonl row is `firstRowJson`.
  static std::vector<std::string> csvColumns(const std::string& firstRowJson);
  // The columns of a run of `task` ("classify" | "detect"; `objectness`: a YOLOv5 head).
  static std::vector<std::string> csvColumns(const std::string& task, bool objectness);

 private:
  void flush() const;

  std::string m_dir;
  std::vector<std::string> m_jsonRows;  // one JSON object per epoch
  std::vector<int> m_epochs;
};

}  // namespace prunelab
