#pragma once
// Batches with background prefetching.
//
// Threads: `workers` std::threads assemble whole batches (decode, augment, normalise)
// into a bounded ring of `prefetch` slots; the consumer (the training thread) takes
// them in order. Workers block when the ring is full, so they never run far ahead
// and take cores from the trainer's intra-op threads only while it would be waiting.
// Determinism: the epoch's order is a seeded shuffle of (seed, epoch) and each sample's
// augmentation uses sampleRng(seed, epoch, index): identical for any worker count.
// Not copyable; destroy (or finish the epoch) before destroying the dataset.

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace prunelab {

struct LoaderOptions {
  int64_t batchSize = 128;
  bool shuffle = true;
  bool augment = true;     // apply the random transform steps
  bool dropLast = false;
  uint64_t seed = 0;
  int workers = 2;
  int prefetch = 4;        // batches assembled ahead
  TransformOptions transform;
};

struct Batch {
  at::Tensor images;  // float32 [B, C, H, W]
  at::Tensor labels;  // int64 [B]
  std::vector<size_t> indices;  // dataset indices, for debugging and tests
};

class DataLoader {
 public:
  DataLoader(DatasetPtr dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts assembling epoch `epoch` (stops any epoch in progress).
  void startEpoch(int epoch);
  // Next batch of the epoch in order; false at its end. Rethrows a worker's error
  // (e.g. an undecodable image, as prunelab::Error naming the file).
  bool next(Batch& batch);
  size_t batchesPerEpoch() const;
  const Dataset& dataset() const { return *m_dataset; }
  const LoaderOptions& options() const { return m_options; }

 private:
  void stop();
  void work(int worker);
  Batch assemble(size_t batchIndex) const;

  DatasetPtr m_dataset;
  LoaderOptions m_options;
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
