// Benchmark: one training step (forward + backward + SGD) of CIFAR ResNet-20 at batch
// 32, 3x32x32, PruneLab's GraphModule against the same step in PyTorch Python, same
// torch 1.13 build and thread count. Rounds alternate between the two so that machine
// noise affects both alike; the median ratio is the result.
//
//   bench_train_step [--rounds 3] [--iters 20] [--warmup 5] [--batch 32] [--threads N]
//                    [--python /usr/bin/python3] [--script .../train_step_pytorch.py]

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "exec/graph_module.h"
#include "exec/runtime.h"
#include "models/zoo.h"
#include "train/fused_sgd.h"

using namespace prunelab;

namespace {

double pruneLabImagesPerSec(int batch, int warmup, int iters) {
  auto graph = std::make_shared<Graph>(buildZooModel("resnet20", {}));
  GraphModule model(graph);
  model->train();
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  const torch::Tensor x = torch::randn({batch, 3, 32, 32});
  const torch::Tensor y = torch::randint(0, 10, {batch});
  auto step = [&] {
    // Not opt.zero_grad(): in LibTorch 1.13 it memsets every grad (there is no
    // set_to_none yet). Dropping them matches the Python side's zero_grad(set_to_none=True).
    for (auto& p : model->parameters()) p.mutable_grad().reset();
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    fusedSgdStep(opt);  // what PruneLab's trainer runs: SGD::step() with multi-tensor kernels
  };
  for (int i = 0; i < warmup; ++i) step();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) step();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return batch * iters / dt;
}

// Runs the Python reference in a fresh process (so the two never share a thread pool)
// and returns its images/s, or 0 when it failed.
double pyTorchImagesPerSec(const std::string& python, const std::string& script, int batch, int threads, int warmup,
                           int iters) {
  const std::string cmd = "'" + python + "' '" + script + "' --model resnet20 --size 32 --batch " +
                          std::to_string(batch) + " --threads " + std::to_string(threads) + " --warmup " +
                          std::to_string(warmup) + " --iters " + std::to_string(iters);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0.0;
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  try {
    // The JSON line is the last thing printed; anything before it (warnings) is ignored.
    if (status != 0 || out.rfind('{') == std::string::npos) throw std::runtime_error("no result");
    return nlohmann::json::parse(out.substr(out.rfind('{'))).at("images_per_s").get<double>();
  } catch (const std::exception&) {
    std::fprintf(stderr, "PyTorch script failed (%s):\n%s\n", cmd.c_str(), out.c_str());
    return 0.0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3, iters = 20, warmup = 5, batch = 32, threads = 0;
  std::string python = "/usr/bin/python3";
  std::string script = std::string(PRUNELAB_BENCH_DIR) + "/train_step_pytorch.py";
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", k.c_str());
      return 2;
    }
    const std::string v = argv[i + 1];
    if (k == "--rounds") rounds = std::atoi(v.c_str());
    else if (k == "--iters") iters = std::atoi(v.c_str());
    else if (k == "--warmup") warmup = std::atoi(v.c_str());
    else if (k == "--batch") batch = std::atoi(v.c_str());
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--python") python = v;
    else if (k == "--script") script = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (rounds < 1 || iters < 1 || batch < 1 || warmup < 0) {
    std::fprintf(stderr, "--rounds, --iters and --batch must be >= 1, --warmup >= 0\n");
    return 2;
  }
  threads = configureThreads(threads);  // 0: all cores; the Python side gets the same count
  std::printf("ResNet-20, batch %d, 3x32x32, forward+backward+SGD, %d threads, %d timed steps per round\n\n", batch,
              threads, iters);
  std::printf("| round | PruneLab img/s | PyTorch img/s | ratio |\n|---|---|---|---|\n");
  std::vector<double> ratios, mine, theirs;
  for (int r = 0; r < rounds; ++r) {
    const double a = pruneLabImagesPerSec(batch, warmup, iters);
    const double b = pyTorchImagesPerSec(python, script, batch, threads, warmup, iters);
    if (b <= 0.0) return 1;  // a ratio against a failed run means nothing
    mine.push_back(a);
    theirs.push_back(b);
    ratios.push_back(a / b);
    std::printf("| %d | %.1f | %.1f | %.3f |\n", r + 1, a, b, a / b);
    std::fflush(stdout);  // rows appear as rounds finish; a round takes a while
  }
  // Median of each column separately: the median ratio need not come from the round
  // holding the median throughputs. Upper median for even counts.
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("| median | %.1f | %.1f | %.3f |\n", median(mine), median(theirs), median(ratios));
  std::printf("\nthreads: %d, batch: %d\n", threads, batch);
  return 0;
}
