#include "util/tensor_limits.h"

#include "util/error.h"

namespace prunelab {

namespace {
std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
}  // namespace

int64_t checkedNumel(const std::string& subject, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(subject, "shape " + shapeText(shape) + " has a negative dimension");
    // n * d > limit, tested without overflowing (n <= limit here, so n * d fits when d <= limit).
    if (d > kMaxTensorElements || (d > 0 && n > kMaxTensorElements / d))
      throw Error(subject, "shape " + shapeText(shape) + " is too large (more than " +
                               std::to_string(kMaxTensorElements) + " elements)");
    n *= d;
  }
  return n;
}

int64_t checkedMul(const std::string& subject, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw Error(subject, "count overflows 64 bits (sizes too large)");
  return r;
}

int64_t checkedAdd(const std::string& subject, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw Error(subject, "count overflows 64 bits (sizes too large)");
  return r;
}

}  // namespace prunelab
