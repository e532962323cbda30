#include "exec/runtime.h"

#include <ATen/Parallel.h>
#include <c10/core/Device.h>
#include <torch/cuda.h>

#include <thread>

#include "util/error.h"

namespace prunelab {

int configureThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return at::get_num_threads();
}

std::string resolveDevice(const std::string& requested) {
  if (requested.empty() || requested == "auto") return torch::cuda::is_available() ? "cuda" : "cpu";
  try {
    const c10::Device d(requested);
    if (d.is_cuda() && !torch::cuda::is_available()) throw Error("device '" + requested + "'", "CUDA is not available");
    return d.str();
  } catch (const c10::Error&) {
    throw Error("device '" + requested + "'", "unknown device (use cpu, cuda or cuda:N)");
  }
}

}  // namespace prunelab
