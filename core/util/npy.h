#pragma once
// NumPy .npy files (format 1.0-3.0, C order, little-endian). Used by the CLI's
// infer command and by tests to exchange tensors with Python.

#include <ATen/core/Tensor.h>

#include <istream>
#include <string>

namespace prunelab {

// Reads float32/float64/int64/int32/uint8/bool arrays; float64 stays float64 (callers
// convert). Throws prunelab::Error naming the file for anything it cannot read, and for
// data before or after what the header's shape declares (a truncated or lying file).
at::Tensor readNpy(const std::string& path);
// The same from a seekable stream positioned at the file's start; `path` names it in errors.
at::Tensor readNpy(std::istream& in, const std::string& path);

// Writes a CPU copy of `t` (any supported dtype), atomically.
void writeNpy(const std::string& path, const at::Tensor& t);

}  // namespace prunelab
