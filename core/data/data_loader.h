#pragma once
// Batches with background prefetching.
//
// Threads: `workers` std::threads assemble whole batches (decode, augment, normalise)
// into a bounded ring of `prefetch` slots; the consumer (the training thread) takes
// them in order. Workers block when the ring is full, so they never run far ahead
// and take cores from the trainer's intra-op threads only while it would be waiting.
// Determinism: the epoch's order is DistributedSampler's randperm seeded with seed + epoch
// (data/distributed_sampler.h) and each sample's augmentation uses sampleRng(seed, epoch,
// index): identical for any worker count, and the same samples for any world size.
// Not copyable; destroy (or finish the epoch) before destroying the dataset.

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "data/batch_source.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace prunelab {

struct LoaderOptions {
  int64_t batchSize = 128;
  bool shuffle = true;
  bool augment = true;     // apply the random transform steps
  bool dropLast = false;   // drop the epoch's last batch when it is short
  uint64_t seed = 0;
  // Data parallelism: this loader reads rank's share of each epoch, as PyTorch's
  // DistributedSampler (data/distributed_sampler.h); world 1 reads everything.
  int rank = 0;
  int world = 1;
  int workers = 2;
  int prefetch = 4;        // batches assembled ahead
  TransformOptions transform;  // used by the classification constructor only
};

// Classification batches: each item augmented by `transform`, labels checked in range.
class ClassificationBatches : public BatchSource {
 public:
  ClassificationBatches(DatasetPtr dataset, TransformOptions transform, uint64_t seed);
  size_t size() const override { return m_dataset->size(); }
  Batch assemble(const std::vector<size_t>& indices, int epoch, bool augment) const override;
  std::string description() const override { return m_dataset->description(); }

 private:
  DatasetPtr m_dataset;
  TransformOptions m_transform;
  uint64_t m_seed;
};

class DataLoader {
 public:
  // Classification: batches of `dataset` through options.transform.
  DataLoader(DatasetPtr dataset, LoaderOptions options);
  // Any task: batches from `source` (options.transform is ignored).
  DataLoader(BatchSourcePtr source, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts assembling epoch `epoch` (stops any epoch in progress).
  void startEpoch(int epoch);
  // Next batch of the epoch in order; false at its end. Rethrows a worker's error
  // (e.g. an undecodable image, as prunelab::Error naming the file).
  bool next(Batch& batch);
  size_t batchesPerEpoch() const;
  // Called by next() on the consumer's thread for each batch it hands out: batches taken
  // so far this epoch, the epoch's batch count, the batch's sample count (progress lines).
  using Progress = std::function<void(size_t done, size_t total, int64_t samples)>;
  void setProgress(Progress progress) { m_progress = std::move(progress); }
  const BatchSource& source() const { return *m_source; }
  const LoaderOptions& options() const { return m_options; }

 private:
  void stop();
  void work(int worker);
  Batch assemble(size_t batchIndex) const;

  BatchSourcePtr m_source;
  LoaderOptions m_options;
  Progress m_progress;
  int m_epoch = 0;
  std::vector<size_t> m_order;

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<Batch> m_slots;          // ring of prefetched batches, slot = batch % prefetch
  std::vector<bool> m_ready;
  size_t m_consumed = 0;               // next batch the consumer takes
  bool m_stopping = false;
  std::exception_ptr m_error;
  std::vector<std::thread> m_threads;
};

}  // namespace prunelab
