#pragma once
// Calibration batches for the data-driven importance criteria (activation, taylor,
// reconstruction), the same for `prunelab-cli prune --calib` and the workbench's Score:
//   classification: a seeded shuffle of the training split, evaluation transform at the
//                   model's input size, labels kept (taylor's cross-entropy);
//   detection:      a seeded shuffle of the validation split, letterboxed at the model's
//                   input size; taylor differentiates the detector's own YOLO loss
//                   against the images' boxes;
//   no data:        seeded standard-normal inputs.

#include <cstdint>
#include <functional>
#include <string>

#include "graph/graph.h"
#include "pruning/importance.h"
#include "session/dataset_spec.h"

namespace prunelab {

struct CalibrationOptions {
  int64_t batches = 4;
  int64_t batchSize = 32;
  uint64_t seed = 0;
  // Called after each batch is loaded (batches done, batches wanted, its images): for a
  // progress line. On the calling thread.
  std::function<void(int64_t done, int64_t total, int64_t images)> progress;
};

// Fills io.calibration (and io.labels / io.loss). `data` may be null (random inputs).
// `input` is C x H x W. Returns what was used, for logs: "4 x 32 images of <spec>".
std::string loadCalibration(const OpenedData* data, const Graph& graph, const Shape& input,
                            const CalibrationOptions& options, ImportanceOptions& io);

}  // namespace prunelab
