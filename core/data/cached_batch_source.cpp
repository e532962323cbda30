#include "data/cached_batch_source.h"

#include <ATen/ATen.h>

#include <utility>

namespace prunelab {

namespace {

int64_t bytesOf(const Batch& b) {
  int64_t n = 0;
  for (const at::Tensor* t : {&b.images, &b.labels, &b.targets})
    if (t->defined()) n += static_cast<int64_t>(t->nbytes());
  return n;
}

}  // namespace

CachedBatchSource::CachedBatchSource(BatchSourcePtr inner, int64_t maxBytes)
    : m_inner(std::move(inner)), m_maxBytes(maxBytes) {}

Batch CachedBatchSource::assemble(const std::vector<size_t>& indices, int epoch, bool augment) const {
  if (augment) return m_inner->assemble(indices, epoch, augment);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_kept.find(indices);
    if (it != m_kept.end()) return it->second;  // tensors are shared: evaluation only reads them
  }
  Batch b = m_inner->assemble(indices, epoch, augment);
  const int64_t bytes = bytesOf(b);
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_bytes + bytes <= m_maxBytes && m_kept.emplace(indices, b).second) m_bytes += bytes;
  return b;
}

int64_t CachedBatchSource::keptBytes() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_bytes;
}

}  // namespace prunelab
