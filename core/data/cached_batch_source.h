#pragma once
// A BatchSource that keeps the batches it has built: evaluations that read the same
// validation batches many times (the sensitivity sweep evaluates every cut on one subset)
// decode, letterbox and normalise each image once.
//
// Only unaugmented batches are kept (augmentation draws per epoch), keyed by their index
// list; once the kept batches reach `maxBytes`, further ones are built each time, so a
// large subset costs no more memory than the budget.
// Threads: assemble() may run on the loader's workers at once (the store is locked).

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "data/batch_source.h"

namespace prunelab {

class CachedBatchSource : public BatchSource {
 public:
  explicit CachedBatchSource(BatchSourcePtr inner, int64_t maxBytes = int64_t{1} << 30);
  size_t size() const override { return m_inner->size(); }
  Batch assemble(const std::vector<size_t>& indices, int epoch, bool augment) const override;
  std::string description() const override { return m_inner->description(); }
  int64_t keptBytes() const;

 private:
  BatchSourcePtr m_inner;
  int64_t m_maxBytes;
  mutable std::mutex m_mutex;
  mutable std::map<std::vector<size_t>, Batch> m_kept;
  mutable int64_t m_bytes = 0;
};

}  // namespace prunelab
