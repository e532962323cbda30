#pragma once
// The --device argument as users of ultralytics write it, mapped onto LibTorch's names
// before core's resolveDevice() (exec/runtime.h) checks that the device exists.

#include <string>

namespace prunelab::cli {

// What runs when --device is not given: the CPU, as TrainerOptions::device and
// runInference()'s default (a GPU is used only when asked for, or with "auto").
inline constexpr const char* kDefaultDevice = "cpu";

// "0" / "1" ... -> "cuda:0" / "cuda:1" (a bare GPU index, as `yolo device=0`); "cpu",
// "cuda", "cuda:N" and "auto" are returned unchanged (resolveDevice() validates them).
// A list ("0,1", "cuda:0,1") throws prunelab::Error: one process trains on one device.
std::string deviceArgument(const std::string& text);

}  // namespace prunelab::cli
