// Benchmark: one training step (forward + backward + SGD) of CIFAR ResNet-20 at batch
// 32, 3x32x32, PruneLab's GraphModule against the same step in PyTorch Python, same
// torch 1.13 build and thread count. Rounds alternate between the two so that machine
// noise affects both alike; the median ratio is the result.
//
//   bench_train_step [--rounds 5] [--iters 30] [--batch 32] [--threads N]

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "exec/graph_module.h"
#include "exec/runtime.h"
#include "models/zoo.h"

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
    opt.zero_grad();  // LibTorch 1.13 sets grads to None like set_to_none=True
    torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    opt.step();
  };
  for (int i = 0; i < warmup; ++i) step();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) step();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return batch * iters / dt;
}

double pyTorchImagesPerSec(int batch, int threads, int warmup, int iters) {
  const std::string cmd = std::string("/usr/bin/python3 ") + PRUNELAB_BENCH_DIR + "/train_step_pytorch.py --batch " +
                          std::to_string(batch) + " --threads " + std::to_string(threads) + " --warmup " +
                          std::to_string(warmup) + " --iters " + std::to_string(iters);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  try {
    return nlohmann::json::parse(out.substr(out.rfind('{'))).at("images_per_s").get<double>();
  } catch (const std::exception&) {
    std::fprintf(stderr, "PyTorch script failed: %s\n", out.c_str());
    return 0.0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5, iters = 30, batch = 32, threads = 0, warmup = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--rounds") rounds = v;
    else if (k == "--iters") iters = v;
    else if (k == "--batch") batch = v;
    else if (k == "--threads") threads = v;
  }
  threads = configureThreads(threads);
  std::printf("ResNet-20, batch %d, 3x32x32, forward+backward+SGD, %d threads, %d timed steps per round\n\n", batch,
              threads, iters);
  std::printf("| round | PruneLab img/s | PyTorch img/s | ratio |\n|---|---|---|---|\n");
  std::vector<double> ratios, mine, theirs;
  for (int r = 0; r < rounds; ++r) {
    const double a = pruneLabImagesPerSec(batch, warmup, iters);
    const double b = pyTorchImagesPerSec(batch, threads, warmup, iters);
    mine.push_back(a);
    theirs.push_back(b);
    ratios.push_back(a / b);
    std::printf("| %d | %.1f | %.1f | %.3f |\n", r + 1, a, b, a / b);
    std::fflush(stdout);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("| median | %.1f | %.1f | %.3f |\n", median(mine), median(theirs), median(ratios));
  return 0;
}
