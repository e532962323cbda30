#include "data/distributed_sampler.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <numeric>

#include "util/error.h"

namespace prunelab {

size_t samplesPerRank(size_t n, int world, bool dropLast) {
  const size_t w = static_cast<size_t>(world);
  if (dropLast && n % w != 0) return n / w;  // DistributedSampler: ceil((n - w) / w) == floor(n / w) here
  return (n + w - 1) / w;
}

std::vector<size_t> distributedSample(size_t n, int rank, int world, bool shuffle, uint64_t seed, int epoch,
                                      bool dropLast) {
  if (world < 1 || rank < 0 || rank >= world)
    throw Error("sampler", "rank " + std::to_string(rank) + " is not in a world of " + std::to_string(world));
  std::vector<size_t> order(n);
  if (shuffle && n > 0) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed + static_cast<uint64_t>(epoch));
    const at::Tensor perm = at::randperm(static_cast<int64_t>(n), gen, at::TensorOptions().dtype(at::kLong));
    const int64_t* p = perm.data_ptr<int64_t>();
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<size_t>(p[i]);
  } else {
    std::iota(order.begin(), order.end(), size_t{0});
  }
  const size_t perRank = samplesPerRank(n, world, dropLast);
  const size_t total = perRank * static_cast<size_t>(world);
  // Pad by repeating from the start (more than once when n < world), or cut.
  if (n > 0)
    for (size_t i = n; i < total; ++i) order.push_back(order[i % n]);
  order.resize(total);
  std::vector<size_t> mine;
  mine.reserve(perRank);
  for (size_t i = static_cast<size_t>(rank); i < total; i += static_cast<size_t>(world)) mine.push_back(order[i]);
  return mine;
}

}  // namespace prunelab
