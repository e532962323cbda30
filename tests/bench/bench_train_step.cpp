// Benchmark: one training step (forward + backward + SGD), PruneLab's GraphModule
// against the same step in PyTorch Python, same torch 1.13 build and thread count.
// Rounds interleave the two (odd rounds PruneLab first, even rounds PyTorch first) so that
// machine noise affects both alike; the median ratio is the result, its min-max over rounds
// the spread, and the load average before and after says how busy the machine was.
//   resnet20 (default): CIFAR ResNet-20, cross-entropy, batch 32, 3x32x32.
//   yolov5n: 80 classes, --size 160 --batch 16; PyTorch runs tests/python/yolov5_reference.py's
//            model with a trivial loss (mean of the raw outputs); PruneLab runs the same
//            trivial loss and, in a third column, its real YOLOv5 loss on fixed boxes.
//
//   bench_train_step [--model resnet20|yolov5n] [--size S] [--rounds 3] [--iters 20] [--warmup 5]
//                    [--batch 32] [--threads N] [--python /usr/bin/python3] [--script F]

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "detect/detection_loss.h"
#include "detect/yolo_head.h"
#include "exec/graph_module.h"
#include "exec/runtime.h"
#include "models/model_loader.h"
#include "models/zoo.h"
#include "train/fused_sgd.h"

using namespace prunelab;

namespace {

enum class LossKind { CrossEntropy, Trivial, Yolo };

// Fixed random boxes for the YOLO loss: 6 per image, 16-80 px.
at::Tensor randomTargets(int batch, int size) {
  std::vector<float> t;
  at::manual_seed(1);
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < 6; ++k) {
      const float w = 16 + 64 * at::rand({1}).item<float>(), h = 16 + 64 * at::rand({1}).item<float>();
      const float cx = w / 2 + (size - w) * at::rand({1}).item<float>(), cy = h / 2 + (size - h) * at::rand({1}).item<float>();
      t.insert(t.end(), {float(b), float(k % 10), cx, cy, w, h});
    }
  return at::from_blob(t.data(), {int64_t(t.size() / 6), 6}).clone();
}

double pruneLabImagesPerSec(const std::string& modelName, int size, LossKind lossKind, int batch, int warmup,
                            int iters) {
  const bool yolo = modelName != "resnet20";
  ModelRequest req;
  req.model = modelName;
  if (yolo) req.numClasses = 80;
  auto graph = std::make_shared<Graph>(yolo ? loadModel(req) : buildZooModel("resnet20", {}));
  GraphModule model(graph);
  model->train();
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.01).momentum(yolo ? 0.937 : 0.9).weight_decay(5e-4));
  const torch::Tensor x = torch::randn({batch, 3, size, size});
  const torch::Tensor y = torch::randint(0, 10, {batch});
  const at::Tensor targets = yolo ? randomTargets(batch, size) : at::Tensor();
  std::unique_ptr<detect::DetectionLoss> yoloLoss;
  size_t levels = 1;
  if (yolo) {
    const detect::YoloHead head = detect::readYoloHead(*graph);
    yoloLoss = detect::makeDetectionLoss(head);
    levels = head.levels();
  }
  auto step = [&] {
    // Not opt.zero_grad(): in LibTorch 1.13 it memsets every grad (there is no
    // set_to_none yet). Dropping them matches the Python side's zero_grad(set_to_none=True).
    for (auto& p : model->parameters()) p.mutable_grad().reset();
    if (lossKind == LossKind::CrossEntropy) {
      torch::nn::functional::cross_entropy(model->forward(x), y).backward();
    } else {
      const auto outs = model->forward(std::vector<at::Tensor>{x});
      const std::vector<at::Tensor> raw(outs.begin(), outs.begin() + static_cast<long>(levels));
      at::Tensor loss;
      if (lossKind == LossKind::Trivial) {
        loss = raw[0].mean();
        for (size_t i = 1; i < raw.size(); ++i) loss = loss + raw[i].mean();
      } else {
        loss = (*yoloLoss)(raw, targets, size).total;
      }
      loss.backward();
    }
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
double pyTorchImagesPerSec(const std::string& python, const std::string& script, const std::string& modelName, int size,
                           int batch, int threads, int warmup, int iters) {
  const std::string cmd = "'" + python + "' '" + script + "' --model " + modelName + " --size " + std::to_string(size) +
                          " --batch " +
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

// The 1, 5 and 15 minute load averages, as uptime prints them.
std::string loadAverage() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "unknown";
  double a = 0, b = 0, c = 0;
  const int n = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
  std::fclose(f);
  if (n != 3) return "unknown";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f, %.2f, %.2f", a, b, c);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3, iters = 20, warmup = 5, batch = -1, threads = 0, size = -1;
  std::string modelName = "resnet20";
  std::string python = "/usr/bin/python3";
  std::string script;
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", k.c_str());
      return 2;
    }
    const std::string v = argv[i + 1];
    if (k == "--rounds") rounds = std::atoi(v.c_str());
    else if (k == "--model") modelName = v;
    else if (k == "--size") size = std::atoi(v.c_str());
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
  const bool yolo = modelName != "resnet20";
  if (modelName != "resnet20" && modelName != "yolov5n") {
    std::fprintf(stderr, "--model must be resnet20 or yolov5n\n");
    return 2;
  }
  if (batch < 0) batch = yolo ? 16 : 32;
  if (size < 0) size = yolo ? 160 : 32;
  if (rounds < 1 || iters < 1 || batch < 1 || warmup < 0) {
    std::fprintf(stderr, "--rounds, --iters and --batch must be >= 1, --warmup >= 0\n");
    return 2;
  }
  threads = configureThreads(threads);  // 0: all cores; the Python side gets the same count
  std::vector<double> ratios, mine, theirs, real, realRatios;
  if (!yolo) {
    std::printf("ResNet-20, batch %d, 3x%dx%d, forward+backward+SGD, %d threads, %d timed steps per round\n\n", batch,
                size, size, threads, iters);
    std::printf("| round | PruneLab img/s | PyTorch img/s | ratio |\n|---|---|---|---|\n");
  } else {
    std::printf("YOLOv5n (80 classes), batch %d, 3x%dx%d, forward+backward+SGD, %d threads, %d timed steps per round\n\n",
                batch, size, size, threads, iters);
    std::printf("| round | PruneLab img/s (trivial loss) | PyTorch img/s (trivial loss) | ratio | PruneLab img/s (YOLOv5 loss) "
                "| ratio to PyTorch trivial |\n|---|---|---|---|---|---|\n");
  }
  if (script.empty())
    script = std::string(PRUNELAB_BENCH_DIR) + (yolo ? "/detect_step_pytorch.py" : "/train_step_pytorch.py");
  const std::string loadBefore = loadAverage();
  for (int r = 0; r < rounds; ++r) {
    const LossKind kind = yolo ? LossKind::Trivial : LossKind::CrossEntropy;
    double a = 0, b = 0;
    if (r % 2 == 0) {
      a = pruneLabImagesPerSec(modelName, size, kind, batch, warmup, iters);
      b = pyTorchImagesPerSec(python, script, modelName, size, batch, threads, warmup, iters);
    } else {
      b = pyTorchImagesPerSec(python, script, modelName, size, batch, threads, warmup, iters);
      a = pruneLabImagesPerSec(modelName, size, kind, batch, warmup, iters);
    }
    if (b <= 0.0) return 1;  // a ratio against a failed run means nothing
    mine.push_back(a);
    theirs.push_back(b);
    ratios.push_back(a / b);
    if (!yolo) {
      std::printf("| %d | %.1f | %.1f | %.3f |\n", r + 1, a, b, a / b);
    } else {
      const double c = pruneLabImagesPerSec(modelName, size, LossKind::Yolo, batch, warmup, iters);
      real.push_back(c);
      realRatios.push_back(c / b);
      std::printf("| %d | %.1f | %.1f | %.3f | %.1f | %.3f |\n", r + 1, a, b, a / b, c, c / b);
    }
    std::fflush(stdout);  // rows appear as rounds finish; a round takes a while
  }
  // Median of each column separately: the median ratio need not come from the round
  // holding the median throughputs. Upper median for even counts.
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto spread = [](const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f-%.3f", *lo, *hi);
    return std::string(buf);
  };
  if (!yolo) {
    std::printf("| median | %.1f | %.1f | %.3f |\n", median(mine), median(theirs), median(ratios));
    std::printf("| min-max ratio | | | %s |\n", spread(ratios).c_str());
  } else {
    std::printf("| median | %.1f | %.1f | %.3f | %.1f | %.3f |\n", median(mine), median(theirs), median(ratios),
                median(real), median(realRatios));
    std::printf("| min-max ratio | | | %s | | %s |\n", spread(ratios).c_str(), spread(realRatios).c_str());
  }
  std::printf("\nthreads: %d, batch: %d; load average (1, 5, 15 min) before: %s, after: %s\n", threads, batch,
              loadBefore.c_str(), loadAverage().c_str());
  return 0;
}
