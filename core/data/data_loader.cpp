#include "data/data_loader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <random>

#include "data/distributed_sampler.h"
#include "util/error.h"

namespace prunelab {

ClassificationBatches::ClassificationBatches(DatasetPtr dataset, TransformOptions transform, uint64_t seed)
    : m_dataset(std::move(dataset)), m_transform(std::move(transform)), m_seed(seed) {
  if (!m_dataset) throw Error("data loader", "no dataset");
}

Batch ClassificationBatches::assemble(const std::vector<size_t>& indices, int epoch, bool augmentOn) const {
  const auto n = static_cast<int64_t>(indices.size());
  Batch batch;
  batch.labels = at::empty({n}, at::kLong);
  auto* labels = batch.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const size_t index = indices[static_cast<size_t>(i)];
    ImageU8 img = m_dataset->image(index);
    SampleRng rng = sampleRng(m_seed, epoch, index);
    augment(img, m_transform, rng, augmentOn);
    if (!batch.images.defined())
      batch.images = at::empty({n, img.channels, img.height, img.width});
    else if (batch.images.size(1) != img.channels || batch.images.size(2) != img.height ||
             batch.images.size(3) != img.width)
      throw Error(m_dataset->description(), "item " + std::to_string(index) + " is " + std::to_string(img.width) + "x" +
                                                std::to_string(img.height) + ": images differ in size (set a resize)");
    toNormalizedChw(img, m_transform, batch.images[i].data_ptr<float>());
    const int64_t label = m_dataset->label(index);
    if (label < 0 || label >= m_dataset->numClasses())
      throw Error(m_dataset->description(), "label " + std::to_string(label) + " of item " + std::to_string(index) +
                                                " is out of range");
    labels[i] = label;
    batch.indices.push_back(index);
  }
  return batch;
}

DataLoader::DataLoader(DatasetPtr dataset, LoaderOptions options)
    : DataLoader(std::make_shared<ClassificationBatches>(std::move(dataset), options.transform, options.seed),
                 options) {}

DataLoader::DataLoader(BatchSourcePtr source, LoaderOptions options)
    : m_source(std::move(source)), m_options(std::move(options)) {
  if (!m_source || m_source->size() == 0) throw Error("data loader", "dataset is empty");
  if (m_options.batchSize <= 0) throw Error("--batch", "must be positive");
  m_options.workers = std::max(1, m_options.workers);
  m_options.prefetch = std::max(m_options.workers, m_options.prefetch);
}

DataLoader::~DataLoader() { stop(); }

size_t DataLoader::batchesPerEpoch() const {
  const size_t n = samplesPerRank(m_source->size(), m_options.world), b = static_cast<size_t>(m_options.batchSize);
  return m_options.dropLast ? n / b : (n + b - 1) / b;
}

void DataLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  for (auto& t : m_threads) t.join();
  m_threads.clear();
}

void DataLoader::startEpoch(int epoch) {
  stop();
  m_epoch = epoch;
  m_order = distributedSample(m_source->size(), m_options.rank, m_options.world, m_options.shuffle, m_options.seed, epoch);
  m_slots.assign(static_cast<size_t>(m_options.prefetch), Batch{});
  m_ready.assign(static_cast<size_t>(m_options.prefetch), false);
  m_consumed = 0;
  m_stopping = false;
  m_error = nullptr;
  for (int w = 0; w < m_options.workers; ++w) m_threads.emplace_back(&DataLoader::work, this, w);
}

void DataLoader::work(int worker) {
  const size_t total = batchesPerEpoch();
  const size_t prefetch = m_slots.size();
  for (size_t b = static_cast<size_t>(worker); b < total; b += static_cast<size_t>(m_options.workers)) {
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stopping || b < m_consumed + prefetch; });
      if (m_stopping) return;
    }
    Batch batch;
    try {
      batch = assemble(b);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (!m_error) m_error = std::current_exception();
      m_cv.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_slots[b % prefetch] = std::move(batch);
      m_ready[b % prefetch] = true;
    }
    m_cv.notify_all();
  }
}

Batch DataLoader::assemble(size_t batchIndex) const {
  const size_t b = static_cast<size_t>(m_options.batchSize);
  const size_t begin = batchIndex * b, end = std::min(begin + b, m_order.size());
  return m_source->assemble(std::vector<size_t>(m_order.begin() + begin, m_order.begin() + end), m_epoch,
                            m_options.augment);
}

bool DataLoader::next(Batch& batch) {
  if (m_threads.empty()) throw Error("data loader", "next() before startEpoch()");
  if (m_consumed >= batchesPerEpoch()) return false;
  const size_t slot = m_consumed % m_slots.size();
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [&] { return m_ready[slot] || m_error; });
    if (m_error && !m_ready[slot]) std::rethrow_exception(m_error);
    batch = std::move(m_slots[slot]);
    m_ready[slot] = false;
    ++m_consumed;
  }
  m_cv.notify_all();
  if (m_progress) m_progress(m_consumed, batchesPerEpoch(), batch.images.defined() ? batch.images.size(0) : 0);
  return true;
}

}  // namespace prunelab
