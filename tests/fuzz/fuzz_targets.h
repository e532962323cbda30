#pragma once
// The harnesses as plain functions: each fuzz_<name>.cpp defines one, which becomes a
// libFuzzer target through fuzz_main.cpp.in (tests/fuzz/CMakeLists.txt) and is replayed over
// the whole seed corpus by the unit test test_fuzz_corpus in every build. Each takes one
// input and returns 0; a finding leaves it as an exception or a crash (fuzz_input.h).

#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"

namespace prunelab::fuzz {

int fuzz_onnx(const uint8_t* data, size_t size);
int fuzz_torch_pickle(const uint8_t* data, size_t size);
int fuzz_pt_file(const uint8_t* data, size_t size);
int fuzz_plm(const uint8_t* data, size_t size);
int fuzz_model_yaml(const uint8_t* data, size_t size);
int fuzz_data_yaml(const uint8_t* data, size_t size);
int fuzz_labels(const uint8_t* data, size_t size);
int fuzz_idx(const uint8_t* data, size_t size);
int fuzz_npy(const uint8_t* data, size_t size);
int fuzz_ratios(const uint8_t* data, size_t size);
int fuzz_sensitivity(const uint8_t* data, size_t size);

}  // namespace prunelab::fuzz
