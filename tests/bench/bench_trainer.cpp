// Benchmark: the trainer's images/s (data loading included) without observers, with
// the observers a live GUI attaches, and PyTorch Python's same epoch, interleaved
// round by round so that machine noise hits all three alike.
//
//   bench_trainer [--rounds 3] [--images 6144] [--batch 128] [--threads N]

#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <algorithm>

#include "exec/runtime.h"
#include "models/zoo.h"
#include "train/trainer.h"

using namespace prunelab;

namespace {

// What the GUI does per callback: copy the values under a lock for a timer to pick up.
class GuiLikeObserver : public TrainObserver {
 public:
  void onStep(const StepStats& s) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_steps.push_back(s);
  }
  void onGammas(const GammaSnapshot& g) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_gammas.push_back(g);
  }
  void onEpoch(const EpochStats& e) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_epochs.push_back(e);
  }
  size_t count() const { return m_steps.size(); }

 private:
  std::mutex m_mutex;
  std::vector<StepStats> m_steps;
  std::vector<GammaSnapshot> m_gammas;
  std::vector<EpochStats> m_epochs;
};

struct Args {
  int rounds = 3;
  int images = 6144;
  int batch = 128;
  int threads = 0;
};

double runPruneLab(const Args& a, const DatasetSplits& data, bool observers, double* top1, double* dataWait = nullptr) {
  ZooOptions zo;
  zo.inChannels = 1;
  auto graph = std::make_shared<Graph>(buildZooModel("resnet20", zo));
  TrainerOptions o;
  o.epochs = 1;
  o.batchSize = a.batch;
  o.lr = 0.1;
  o.schedule.kind = "constant";
  o.gammaEvery = 10;  // 5x more often than the default: an upper bound on the cost
  defaultTransforms(*data.train, 1, o.trainTransform, o.evalTransform);
  Trainer t(graph, data, o);
  GuiLikeObserver obs;
  if (observers) t.addObserver(&obs);
  const TrainResult r = t.run();
  if (top1) *top1 = r.last.valTop1;
  if (dataWait) *dataWait = r.last.dataWaitFraction;
  return r.imagesPerSec;
}

double runPyTorch(const Args& a, int threads, double* top1) {
  const std::string cmd = std::string("/usr/bin/python3 ") + PRUNELAB_BENCH_DIR + "/trainer_pytorch.py --images " +
                          std::to_string(a.images) + " --batch " + std::to_string(a.batch) + " --threads " +
                          std::to_string(threads) + " --workers 2";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0.0;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  try {
    const auto j = nlohmann::json::parse(out.substr(out.rfind('{')));
    if (top1) *top1 = j.at("val_top1").get<double>();
    return j.at("images_per_s").get<double>();
  } catch (const std::exception&) {
    std::fprintf(stderr, "PyTorch script failed: %s\n", out.c_str());
    return 0.0;
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--rounds") a.rounds = v;
    else if (k == "--images") a.images = v;
    else if (k == "--batch") a.batch = v;
    else if (k == "--threads") a.threads = v;
  }
  const int threads = configureThreads(a.threads);
  DatasetSplits data = openClassificationData("fashion-mnist");
  data.train = limitDataset(data.train, static_cast<size_t>(a.images));
  data.val = limitDataset(data.val, 1000);

  std::printf("ResNet-20 (1x28x28) on %d Fashion-MNIST images, batch %d, %d threads, 1 epoch per run, data "
              "loading included\n\n",
              a.images, a.batch, threads);
  std::printf("| round | PruneLab img/s | PruneLab + observers img/s | PyTorch img/s | observers ratio | vs PyTorch |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::vector<double> plain, observed, torchRates, obsRatio, torchRatio;
  double topPlain = 0, topTorch = 0, wait = 0;
  for (int r = 0; r < a.rounds; ++r) {
    const double p = runPruneLab(a, data, false, &topPlain, &wait);
    const double o = runPruneLab(a, data, true, nullptr);
    const double t = runPyTorch(a, threads, &topTorch);
    plain.push_back(p);
    observed.push_back(o);
    torchRates.push_back(t);
    obsRatio.push_back(o / p);
    torchRatio.push_back(p / t);
    std::printf("| %d | %.1f | %.1f | %.1f | %.3f | %.2f |\n", r + 1, p, o, t, o / p, p / t);
    std::fflush(stdout);
  }
  std::printf("| median | %.1f | %.1f | %.1f | %.3f | %.2f |\n\n", median(plain), median(observed), median(torchRates),
              median(obsRatio), median(torchRatio));
  std::printf("val top-1 after the epoch (last round): PruneLab %.3f, PyTorch %.3f\n", topPlain, topTorch);
  std::printf("PruneLab's trainer waited for data %.1f%% of the epoch (last round)\n", 100 * wait);
  return 0;
}
