#pragma once
// Process-wide runtime settings for LibTorch.

#include <string>

namespace prunelab {

// LibTorch here starts with 1 intra-op thread; PruneLab defaults to all cores.
// `threads` <= 0 means std::thread::hardware_concurrency(). Returns the count set.
int configureThreads(int threads = 0);

// "cpu", "cuda", "cuda:1"...; "auto" picks CUDA when available. Throws prunelab::Error
// for an unknown or unavailable device. Returned as a string usable by at::Device.
std::string resolveDevice(const std::string& requested);

}  // namespace prunelab
