#pragma once
// Limits on the sizes that a file or an option may ask PruneLab to allocate or count.
// Every reader checks a declared shape here before it allocates: a header saying
// [-3, 8] or [1e12, 1e12] is a lie about the file, not a reason for LibTorch to throw
// from deep inside at::empty (or for an int64 product to wrap round).

#include <cstdint>
#include <string>
#include <vector>

namespace prunelab {

// 2^34 elements (64 GiB of float32): far above any model or batch PruneLab handles, far
// below where products of dims and MAC counts overflow int64.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 34;
// One dimension of a model input (--input CxHxW, a file's recorded input size).
inline constexpr int64_t kMaxInputDim = int64_t(1) << 20;

// The element count of `shape`. Throws prunelab::Error naming `subject` (a file and the
// tensor, a node) when a dim is negative or the count exceeds kMaxTensorElements.
int64_t checkedNumel(const std::string& subject, const std::vector<int64_t>& shape);

// a * b and a + b for non-negative counts (MACs, parameters); throws prunelab::Error
// naming `subject` on overflow instead of wrapping to a negative number.
int64_t checkedMul(const std::string& subject, int64_t a, int64_t b);
int64_t checkedAdd(const std::string& subject, int64_t a, int64_t b);

}  // namespace prunelab
