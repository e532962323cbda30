// `prunelab-cli prune --steps N --fine-tune-epochs E --data SPEC --run-dir DIR`: N cuts with
// training between them (core/session/iterative_prune.h). On the demo ResNet-20 with tiny
// Fashion-MNIST budgets (256 training and 128 validation images, 1 epoch per step, 3 steps):
//  - the cuts and the training between them happen (step-k.plm, each smaller than the last;
//    each step's results.csv);
//  - the schedule ends where one cut ends: --percent p removes 1 - (1 - p)^(1/N) of the
//    channels per step (the prunable channels left equal the one-shot plan's within one
//    per step: p per step, or p/N, would miss by dozens), --target-macs T aims step k at
//    ceil(C0 - k/N (C0 - T)) and no step overshoots the next aim;
//  - a run started again on its folder resumes after its last step-k.plm, redoes only what
//    is missing (a step's cut, its training, or the rest of its training) and ends with the
//    same channels;
//  - bad requests are refused naming the option or the file.

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "graph/input_shape.h"
#include "io/checkpoint.h"
#include "ops/op_table.h"
#include "pruning/dependency_graph.h"
#include "test_helpers.h"

using prunelab::test::runCli;
namespace fs = std::filesystem;

namespace {

const QString kDemo = QStringLiteral(PRUNELAB_SOURCE_DIR "/resources/demo/classifier.plm");
constexpr int kSteps = 3;

QStringList pruneArgs(const QStringList& mode, const QString& runDir, const QString& out) {
  return QStringList{"prune", "--model", kDemo, "--criterion", "l2"} + mode +
         QStringList{"--steps", QString::number(kSteps), "--fine-tune-epochs", "1", "--fine-tune-batch", "64",
                     "--data", "fashion-mnist", "--train-limit", "256", "--val-limit", "128", "--run-dir", runDir,
                     "--out", out};
}

prunelab::Graph load(const std::string& path) {
  prunelab::Graph g = prunelab::loadCheckpoint(path).graph;
  prunelab::inferShapes(g, prunelab::defaultInputShape(g));
  return g;
}

// The channels a plan may remove (every prunable group's unpinned channels).
int64_t prunableChannels(const prunelab::Graph& g) {
  int64_t n = 0;
  const prunelab::DependencyGraph deps(g);
  for (const prunelab::Group& group : deps.groups()) n += group.prunableCount();
  return n;
}

// Output channels per Conv/Linear, in graph order.
std::vector<int64_t> layerChannels(const prunelab::Graph& g) {
  std::vector<int64_t> c;
  for (const prunelab::Node& n : g.nodes())
    if (prunelab::opSpec(n.op).isChannelSource) c.push_back(g.value(n.outputs[0]).shape.at(1));
  return c;
}

nlohmann::json jsonOf(const prunelab::test::CliRun& r) {
  if (r.code != 0) qWarning("exit %d, stderr: %s", r.code, r.err.c_str());
  return r.code == 0 ? nlohmann::json::parse(r.out.substr(r.out.find('{'))) : nlohmann::json();
}

}  // namespace

class TestIterativePrune : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  QString path(const QString& name) const { return m_dir.path() + "/" + name; }

 private Q_SLOTS:
  // --percent: the cuts, the training between them, the one-shot plan's channels, resume.
  void percentInStepsWithTraining() {
    const QString run = path("percent"), out = path("percent.plm");
    const auto t0 = std::chrono::steady_clock::now();
    const auto first = runCli(pruneArgs({"--percent", "0.5"}, run, out));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    QVERIFY2(first.code == 0, first.err.c_str());
    qInfo("%s(%.1f s for %d steps)", first.out.c_str(), seconds, kSteps);

    // (a) k cuts with training between them.
    const prunelab::Graph original = load(kDemo.toStdString());
    int64_t previous = prunableChannels(original);
    for (int k = 1; k <= kSteps; ++k) {
      const std::string step = (run + "/step-" + QString::number(k)).toStdString();
      QVERIFY2(fs::exists(step + ".plm"), step.c_str());
      QVERIFY2(fs::exists(step + "/results.csv"), step.c_str());
      const int64_t channels = prunableChannels(load(step + ".plm"));
      QVERIFY2(channels < previous, qPrintable(QString("step %1: %2 channels, before %3").arg(k).arg(channels).arg(previous)));
      previous = channels;
      QVERIFY2(first.out.find("step " + std::to_string(k) + "/3: cut") != std::string::npos, first.out.c_str());
    }
    const prunelab::Checkpoint final = prunelab::loadCheckpoint(out.toStdString());
    QVERIFY(final.info.count("surgery_log") && final.info.at("surgery_log").size() > 2);

    // (b) where one cut of 50 % ends: within one channel per step (each step's global
    // threshold removes floor(share x channels)).
    const QString oneShot = path("one-shot.plm");
    const auto once = runCli({"prune", "--model", kDemo, "--criterion", "l2", "--percent", "0.5", "--out", oneShot});
    QVERIFY2(once.code == 0, once.err.c_str());
    const int64_t start = prunableChannels(original), single = prunableChannels(load(oneShot.toStdString()));
    const int64_t iterative = prunableChannels(load(out.toStdString()));
    qInfo("prunable channels: original %lld, one cut %lld, %d cuts %lld", (long long)start, (long long)single, kSteps,
          (long long)iterative);
    QVERIFY2(std::abs(iterative - single) <= kSteps,
             qPrintable(QString("%1 cuts leave %2 channels, one cut %3").arg(kSteps).arg(iterative).arg(single)));

    // (c) resume: without the last step's model and run, it is redone from step-2.plm.
    const std::vector<int64_t> channels = layerChannels(load(out.toStdString()));
    fs::remove(run.toStdString() + "/step-3.plm");
    fs::remove_all(run.toStdString() + "/step-3");
    const auto again = runCli(pruneArgs({"--percent", "0.5"}, run, out));
    QVERIFY2(again.code == 0, again.err.c_str());
    QVERIFY2(again.out.find("resumed at step 3") != std::string::npos, again.out.c_str());
    QVERIFY2(again.out.find("step 1/3 (done before)") != std::string::npos, again.out.c_str());
    QVERIFY2(fs::exists(run.toStdString() + "/step-3/results.csv"), "step 3 not trained again");
    QCOMPARE(layerChannels(load(out.toStdString())), channels);

    // Only step-3.plm lost: the step's finished training is taken as it is, nothing retrains.
    fs::remove(run.toStdString() + "/step-3.plm");
    const auto finished = runCli(pruneArgs({"--percent", "0.5"}, run, out));
    QVERIFY2(finished.code == 0, finished.err.c_str());
    QVERIFY2(finished.out.find("its training had finished") != std::string::npos, finished.out.c_str());
    QCOMPARE(layerChannels(load(out.toStdString())), channels);

    // Only step-3.plm lost again, now asked for 2 epochs per step: the step's training
    // continues from its last.plm (the trainer's own resume) with its second epoch.
    fs::remove(run.toStdString() + "/step-3.plm");
    QStringList twoEpochs = pruneArgs({"--percent", "0.5"}, run, out);
    twoEpochs[twoEpochs.indexOf("--fine-tune-epochs") + 1] = "2";
    const auto longer = runCli(twoEpochs);
    QVERIFY2(longer.code == 0, longer.err.c_str());
    QVERIFY2(longer.out.find("continuing with epoch 2") != std::string::npos, longer.out.c_str());
    std::ifstream csv(run.toStdString() + "/step-3/results.csv");
    std::string line;
    int rows = 0;
    while (std::getline(csv, line)) rows += line.empty() ? 0 : 1;
    QCOMPARE(rows, 3);  // the header and two epochs
    QCOMPARE(layerChannels(load(out.toStdString())), channels);

    // Another schedule on the same folder is refused, naming the file and what differs.
    const auto other = runCli(pruneArgs({"--percent", "0.4"}, run, out));
    QVERIFY(other.code != 0);
    QVERIFY2(other.err.find("step-3.plm") != std::string::npos && other.err.find("target") != std::string::npos,
             other.err.c_str());
  }

  // --target-macs: each step at or below its aim and above the next one; the end within a
  // channel's MACs of T and of the one-shot plan.
  void targetMacsInSteps() {
    const prunelab::Graph original = load(kDemo.toStdString());
    const int64_t c0 = prunelab::computeCost(original).macs;
    const int64_t target = c0 * 6 / 10;
    const QString run = path("macs"), out = path("macs.plm");
    QStringList args = pruneArgs({"--target-macs", QString::number(target)}, run, out);
    args << "--json";
    const nlohmann::json j = jsonOf(runCli(args));
    QVERIFY(!j.is_null());
    QCOMPARE(j["steps"].size(), size_t(kSteps));
    std::vector<int64_t> aims;
    for (int k = 1; k <= kSteps + 1; ++k)
      aims.push_back(static_cast<int64_t>(std::ceil(double(c0) - double(k) / kSteps * double(c0 - target))));
    for (int k = 0; k < kSteps; ++k) {
      const nlohmann::json& s = j["steps"][k];
      const int64_t macs = s["macs"];
      qInfo("step %d: aim %lld, MACs %lld, top1 %.4f after the cut, %.4f after training (%.1f s + %.1f s)", k + 1,
            (long long)aims[k], (long long)macs, s["after_cut"].get<double>(), s["after_training"].get<double>(),
            s["cut_seconds"].get<double>(), s["train_seconds"].get<double>());
      QCOMPARE(s["aim"].get<int64_t>(), aims[k]);
      QVERIFY(macs <= aims[k]);
      if (k + 1 < kSteps) QVERIFY2(macs > aims[k + 1], "a step cut past the next step's aim");
    }
    const int64_t final = prunelab::computeCost(load(out.toStdString())).macs;
    QCOMPARE(j["macs_after"].get<int64_t>(), final);
    const QString oneShot = path("macs-one-shot.plm");
    const auto once = runCli({"prune", "--model", kDemo, "--criterion", "l2", "--target-macs", QString::number(target),
                              "--out", oneShot});
    QVERIFY2(once.code == 0, once.err.c_str());
    const int64_t single = prunelab::computeCost(load(oneShot.toStdString())).macs;
    // The coarsest step a plan takes is one channel of the first stage's residual group: it
    // leaves or enters 7 of the 16-channel 3 x 3 convs at 32 x 32, at most 2 x 16 x 9 x 1024
    // MACs each.
    const int64_t margin = int64_t(7) * 2 * 16 * 9 * 1024;
    qInfo("MACs: original %lld, target %lld, one cut %lld, %d cuts %lld (margin %lld)", (long long)c0,
          (long long)target, (long long)single, kSteps, (long long)final, (long long)margin);
    QVERIFY(final <= target);
    QVERIFY(target - final <= margin);
    QVERIFY(std::abs(final - single) <= margin);
  }

  void badRequestsAreNamed() {
    struct Case {
      QStringList args;
      std::vector<std::string> mentions;
    };
    const QString run = path("bad");
    const QStringList base{"prune", "--model", kDemo, "--percent", "0.3", "--out", path("bad.plm")};
    const std::vector<Case> cases = {
        {base + QStringList{"--fine-tune-epochs", "1", "--run-dir", run}, {"--fine-tune-epochs", "--data"}},
        {base + QStringList{"--fine-tune-epochs", "1", "--data", "fashion-mnist"}, {"--fine-tune-epochs", "--run-dir"}},
        {base + QStringList{"--data", "fashion-mnist"}, {"--data", "--fine-tune-epochs"}},
        {QStringList{"prune", "--model", kDemo, "--layer", "layer1.0.conv1", "--amount", "0.5", "--out", path("b.plm"),
                     "--fine-tune-epochs", "1", "--data", "fashion-mnist", "--run-dir", run},
         {"--layer", "one step"}},
    };
    for (const Case& c : cases) {
      const auto r = runCli(c.args);
      QVERIFY2(r.code != 0, qPrintable(c.args.join(' ')));
      for (const std::string& m : c.mentions)
        QVERIFY2(r.err.find(m) != std::string::npos, qPrintable(c.args.join(' ') + " -> " + QString::fromStdString(r.err)));
    }
    QVERIFY(!fs::exists(run.toStdString()));
  }
};

QTEST_GUILESS_MAIN(TestIterativePrune)
#include "test_iterative_prune.moc"
