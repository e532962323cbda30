#pragma once
// The order of an epoch's samples, and one rank's share of it, exactly as PyTorch's
// torch.utils.data.DistributedSampler(dataset, num_replicas=world, rank=rank,
// shuffle=shuffle, seed=seed, drop_last=dropLast) after set_epoch(epoch):
// - shuffled by torch.randperm(n) from a generator seeded with seed + epoch (the same
//   LibTorch kernel, so the same permutation as Python's);
// - padded by repeating the order from its start until it divides by `world` (or, with
//   dropLast, cut to the largest multiple of `world`);
// - rank r takes positions r, r + world, r + 2*world, ...
// One process (world 1) reads the whole permutation; the union of the ranks' shares of
// one step is then the batch a single process would read, which is what makes N ranks
// x batch B equal to one process x batch N*B.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace prunelab {

std::vector<size_t> distributedSample(size_t n, int rank, int world, bool shuffle, uint64_t seed, int epoch,
                                      bool dropLast = false);

// Samples per rank per epoch (DistributedSampler.num_samples).
size_t samplesPerRank(size_t n, int world, bool dropLast = false);

}  // namespace prunelab
