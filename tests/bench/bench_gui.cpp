// The workbench's responsiveness, measured on the real window (offscreen or xvfb):
//   1. what-if: a per-layer ratio edit on YOLO11n (the largest model shipped here),
//      through the table model -> PruneModel -> what-if, table, graph colours, channel bars;
//   2. event-loop lateness while training with every panel live: a repeating 10 ms timer;
//   3. training images/s with all panels live vs the same Trainer headless, rounds
//      interleaved side by side.
//
//   bench_gui [--edits 200] [--rounds 3] [--images 3072] [--batch 64]

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "data/dataset.h"
#include "exec/runtime.h"
#include "gui/workbench.h"
#include "../support/workbench_open.h"
#include "models/model_loader.h"
#include "train/classification_task.h"
#include "train/trainer.h"
#include "widgets/layer_table_model.h"
#include "widgets/layers_panel.h"
#include "widgets/main_window.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {

struct Args {
  int edits = 200;
  int rounds = 3;
  int images = 3072;
  int batch = 64;
};

// Runs the event loop (sleeping, as a user's idle GUI does) until `done`.
void waitFor(const std::function<bool()>& done) {
  if (done()) return;
  QEventLoop loop;
  QTimer poll;
  QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
    if (done()) loop.quit();
  });
  poll.start(20);
  loop.exec();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

void benchWhatIf(const Args& a) {
  Workbench bench;
  bench.window().show();
  ModelSpec m;
  m.model = "yolo11n";
  bench.openModel(m);
  waitFor([&] { return bench.idle() && bench.pruneModel().hasScores(); });
  widgets::LayerTableModel* table = bench.window().layersPanel()->model();
  std::vector<int> rows;
  for (int r = 0; r < table->rowCount(); ++r)
    if (table->rows()[r].prunable) rows.push_back(r);
  std::vector<double> ms;
  for (int i = 0; i < a.edits; ++i) {
    const int row = rows[i % rows.size()];
    const double ratio = 0.1 + 0.05 * (i % 12);
    QElapsedTimer t;
    t.start();
    table->setData(table->index(row, widgets::LayerTableModel::Ratio), ratio, Qt::EditRole);
    QApplication::processEvents();  // repaint of the table, graph and bars included
    ms.push_back(t.nsecsElapsed() / 1e6);
  }
  std::printf("\n### What-if update for a ratio edit, YOLO11n (%d layers, %d edits)\n\n", int(rows.size()), a.edits);
  std::printf("| median ms | p95 ms | max ms | goal |\n|---|---|---|---|\n");
  std::printf("| %.2f | %.2f | %.2f | <= 30 ms |\n", percentile(ms, 0.5), percentile(ms, 0.95), percentile(ms, 1.0));
}

DatasetSplits smallData(const Args& a) {
  DatasetSplits s = openClassificationData("fashion-mnist");
  s.train = limitDataset(s.train, a.images, 1);
  s.val = limitDataset(s.val, 512, 2);
  return s;
}

double headlessRound(const Args& a, const DatasetSplits& data) {
  ModelRequest req;
  req.model = "resnet20";
  req.numClasses = 10;
  auto graph = std::make_shared<Graph>(loadModel(req));
  TrainerOptions o;
  o.epochs = 1;
  o.batchSize = a.batch;
  o.lr = 0.05;
  o.gammaEvery = 20;
  defaultTransforms(*data.train, 3, o.trainTransform, o.evalTransform);
  Trainer t(graph, data, o, std::make_shared<TrainControl>(1e-3, o.lr));
  return t.run().imagesPerSec;
}

struct GuiRound {
  double imagesPerSec = 0;
  std::vector<double> lateMs;
};

GuiRound guiRound(const Args& a, Workbench& bench) {
  GuiRound r;
  QObject::connect(&bench, &Workbench::trainEpoch, &bench, [&r](const widgets::EpochPoint& p) {
    for (const auto& kv : p.values)
      if (kv.first == "speed/images_per_s") r.imagesPerSec = kv.second;
  });
  bool done = false;
  auto c = QObject::connect(&bench, &Workbench::trainingFinished, &bench, [&done] { done = true; });
  QTimer tick;
  QElapsedTimer clock;
  tick.setTimerType(Qt::PreciseTimer);
  tick.setInterval(10);
  qint64 last = -1;
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    if (last >= 0) r.lateMs.push_back(std::max(0.0, (now - last) / 1e6 - 10.0));
    last = now;
  });
  TrainSettings s;
  s.epochs = 1;
  s.batch = a.batch;
  s.lr = 0.05;
  s.sr = 1e-3;
  s.gammaEvery = 20;
  clock.start();
  tick.start();
  bench.startTraining(s);
  waitFor([&] { return done; });
  tick.stop();
  QObject::disconnect(c);
  waitFor([&] { return bench.idle(); });
  return r;
}

void benchTraining(const Args& a) {
  const DatasetSplits data = smallData(a);
  Workbench bench;
  bench.window().show();
  prunelab::test::openFashionMnist(bench, a.images, 512);
  waitFor([&] { return bench.idle() && bench.pruneModel().hasScores(); });

  std::printf("\n### Training with every panel live vs headless (ResNet-20, %d images, batch %d, sr 1e-3)\n\n",
              a.images, a.batch);
  std::printf("| round | headless img/s | GUI img/s | ratio | loop lateness p50 / p99 / max ms |\n|---|---|---|---|---|\n");
  std::vector<double> ratios, late;
  for (int i = 0; i < a.rounds; ++i) {
    const double h = headlessRound(a, data);
    // The GUI run trains the current model: undo back so every round starts the same.
    const GuiRound g = guiRound(a, bench);
    bench.undo();
    waitFor([&] { return bench.idle(); });
    ratios.push_back(g.imagesPerSec / h);
    late.insert(late.end(), g.lateMs.begin(), g.lateMs.end());
    std::printf("| %d | %.0f | %.0f | %.3f | %.1f / %.1f / %.1f |\n", i + 1, h, g.imagesPerSec, ratios.back(),
                percentile(g.lateMs, 0.5), percentile(g.lateMs, 0.99), percentile(g.lateMs, 1.0));
  }
  std::printf("\nmedian ratio %.3f (goal >= 0.97); lateness over all rounds p99 %.1f ms, max %.1f ms (goal <= 50 ms)\n",
              percentile(ratios, 0.5), percentile(late, 0.99), percentile(late, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--edits") a.edits = v;
    else if (k == "--rounds") a.rounds = v;
    else if (k == "--images") a.images = v;
    else if (k == "--batch") a.batch = v;
  }
  configureThreads();
  benchWhatIf(a);
  benchTraining(a);
  return 0;
}
