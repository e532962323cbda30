#pragma once
// What a DataLoader batches: a task-specific recipe that turns dataset indices into a
// ready Batch (decode, augment, normalise, collate).
//
// Threads: assemble() is const and called concurrently by the loader's worker threads.
// Determinism: implementations draw randomness only from sampleRng(seed, epoch, index)
// so batches do not depend on which thread built them.

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace prunelab {

struct Batch {
  at::Tensor images;   // float32 [B, C, H, W]
  at::Tensor labels;   // classification: int64 [B]; detection: undefined
  at::Tensor targets;  // detection: float32 [N, 6] = (image in batch, class, cx, cy, w, h), in pixels of `images`
  std::vector<size_t> indices;  // dataset indices, for debugging and tests
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual size_t size() const = 0;
  // Builds the batch of `indices` for `epoch`; `augment` enables the random steps.
  // Throws prunelab::Error naming the file or item on bad data.
  virtual Batch assemble(const std::vector<size_t>& indices, int epoch, bool augment) const = 0;
  virtual std::string description() const = 0;
};

using BatchSourcePtr = std::shared_ptr<const BatchSource>;

}  // namespace prunelab
