// Training guards (issue 15 item 13): a run that diverges stops with a message naming the
// epoch and step and keeps the last good checkpoint; a checkpoint that cannot be written
// (full disk) stops the run with a message and leaves the previous checkpoint intact.

#include <ATen/ATen.h>
#include <sys/resource.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <csignal>
#include <limits>

#include "io/checkpoint.h"
#include "models/graph_builder.h"
#include "session/session.h"
#include "train/trainer.h"
#include "util/error.h"

using namespace prunelab;

namespace {

std::shared_ptr<Graph> smallCnn() {
  at::manual_seed(0);
  auto g = std::make_shared<Graph>();
  GraphBuilder b(*g);
  ValueId x = b.input("input", {1, 28, 28});
  x = b.act(OpKind::ReLU, b.batchNorm(b.conv(x, "conv1", 8, 3, 2), "bn1"), "relu1");
  x = b.flatten(b.globalAvgPool(x, "pool"), "flatten");
  b.output(b.linear(x, "fc", 10));
  g->metadata()["num_classes"] = "10";
  return g;
}

// Poisons one weight after the last step of epoch `epoch` (0-based): no later loss of
// that epoch can see it, so only a check of the weights themselves can.
class PoisonAfterLastStep : public TrainObserver {
 public:
  PoisonAfterLastStep(Graph& g, int epoch) : m_g(g), m_epoch(epoch) {}
  void onStep(const StepStats& s) override {
    if (s.epoch == m_epoch && s.batch + 1 == s.batchesPerEpoch)
      m_g.node(m_g.findNode("fc")->id).tensor("weight").detach().view(-1)[3] = std::numeric_limits<float>::quiet_NaN();
  }

 private:
  Graph& m_g;
  int m_epoch;
};

struct Outcome {
  bool finished = false, crashed = false;
  int code = -1;
  std::string err;
};

Outcome runCli(const QStringList& args, long fileSizeLimit = 0) {
  QProcess p;
  if (fileSizeLimit > 0)
    p.setChildProcessModifier([fileSizeLimit] {
      ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
      const rlimit r{static_cast<rlim_t>(fileSizeLimit), static_cast<rlim_t>(fileSizeLimit)};
      ::setrlimit(RLIMIT_FSIZE, &r);
    });
  // $PRUNELAB_CLI_UNDER_TEST: another build's CLI (e.g. main's, to show the test fails there).
  p.start(qEnvironmentVariable("PRUNELAB_CLI_UNDER_TEST", PRUNELAB_CLI), args);
  Outcome o;
  if (!p.waitForFinished(600000)) {
    p.kill();
    p.waitForFinished();
    return o;
  }
  o.finished = true;
  o.crashed = p.exitStatus() == QProcess::CrashExit;
  o.code = p.exitCode();
  o.err = p.readAllStandardError().toStdString();
  return o;
}

QByteArray sha256(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256) : QByteArray();
}

}  // namespace

class TestTrainGuards : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const std::string& p) { return m_dir.path().toStdString() + "/" + p; }

 private Q_SLOTS:
  // Weights that turn NaN in an epoch's last step: the loss never sees them, yet they must
  // not be validated or saved as last.plm.
  void nonFiniteWeightsStopBeforeTheCheckpoint() {
    DatasetSplits all = openClassificationData("fashion-mnist");
    const DatasetSplits d{limitDataset(all.train, 256, 1), limitDataset(all.val, 64, 2)};
    auto g = smallCnn();
    TrainerOptions o;
    o.epochs = 3;
    o.batchSize = 64;
    o.lr = 0.05;
    o.schedule.kind = "constant";
    o.workers = 1;
    o.runDir = path("poisoned");
    defaultTransforms(*d.train, 1, o.trainTransform, o.evalTransform);
    Trainer t(g, d, o);
    PoisonAfterLastStep poison(*g, 1);
    t.addObserver(&poison);
    try {
      t.run();
      QFAIL("no error for NaN weights");
    } catch (const Error& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("epoch 2") != std::string::npos, e.what());
      QVERIFY2(msg.find("fc.weight") != std::string::npos, e.what());
      QVERIFY2(msg.find("after step ") != std::string::npos, e.what());
      QVERIFY2(msg.find("last.plm") != std::string::npos, e.what());
    }
    const Checkpoint ck = loadCheckpoint(path("poisoned/last.plm"));
    QCOMPARE(ck.info.at("epoch"), std::string("0"));
    for (const auto& [k, v] : ck.graph.stateDict()) QVERIFY2(v.isfinite().all().item<bool>(), k.c_str());
  }

  // A huge learning rate through the CLI: the run stops with exit 1 naming the epoch, no
  // crash, no checkpoint with non-finite weights, and no claim of a checkpoint that does
  // not exist.
  void hugeLearningRateStopsTheRun() {
    const QString run = QString::fromStdString(path("huge_lr"));
    const Outcome o = runCli({"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "2", "--train-limit",
                              "128", "--val-limit", "64", "--batch", "32", "--lr", "1e30", "--out", run});
    QVERIFY(o.finished && !o.crashed);
    QVERIFY2(o.code == 1, o.err.c_str());
    QVERIFY2(o.err.find("epoch 1") != std::string::npos, o.err.c_str());
    QVERIFY2(o.err.find("NaN") != std::string::npos || o.err.find("nan") != std::string::npos ||
                 o.err.find("inf") != std::string::npos,
             o.err.c_str());
    if (QFile::exists(run + "/last.plm")) {
      const Checkpoint ck = loadCheckpoint((run + "/last.plm").toStdString());
      for (const auto& [k, v] : ck.graph.stateDict()) QVERIFY2(v.isfinite().all().item<bool>(), k.c_str());
    } else {
      // It must not claim a checkpoint it never wrote (it used to say "last.plm is intact").
      QVERIFY2(o.err.find("is intact") == std::string::npos, o.err.c_str());
      QVERIFY2(o.err.find("no checkpoint had been written yet") != std::string::npos, o.err.c_str());
    }
  }

  // Epoch 1 is saved; epoch 2's checkpoint cannot be written (a file-size limit stands in
  // for a full disk): exit 1 naming the file, both checkpoints of epoch 1 byte-identical
  // and loadable, no temporary file left. It used to end in "terminate called" (134).
  void failedCheckpointWriteKeepsThePrevious() {
    const QString run = QString::fromStdString(path("full_disk"));
    const QStringList args = {"train", "--model", "resnet20", "--data", "fashion-mnist", "--train-limit", "64",
                              "--val-limit", "64", "--batch", "32", "--out", run};
    const Outcome first = runCli(args + QStringList{"--epochs", "1"});
    QVERIFY2(first.code == 0, first.err.c_str());
    QVERIFY(QFile::exists(run + "/last.plm"));
    const QByteArray last = sha256(run + "/last.plm"), best = sha256(run + "/best.plm");
    QVERIFY(QFileInfo(run + "/last.plm").size() > 256 * 1024);  // far above the limit below

    const Outcome second = runCli(args + QStringList{"--epochs", "2", "--resume"}, 128 * 1024);
    QVERIFY2(second.finished && !second.crashed, second.err.c_str());
    QVERIFY2(second.err.find("terminate called") == std::string::npos, second.err.c_str());
    QVERIFY2(second.code == 1, ("exit " + std::to_string(second.code) + "\n" + second.err).c_str());
    QVERIFY2(second.err.find(".plm") != std::string::npos && second.err.find("write failed") != std::string::npos,
             second.err.c_str());
    QCOMPARE(sha256(run + "/last.plm"), last);
    if (!best.isEmpty()) QCOMPARE(sha256(run + "/best.plm"), best);
    QCOMPARE(loadCheckpoint((run + "/last.plm").toStdString()).info.at("epoch"), std::string("0"));
    const QStringList temps = QDir(run).entryList({"*.tmp.*"}, QDir::Files);
    QVERIFY2(temps.isEmpty(), temps.join(", ").toUtf8().constData());
  }
};

QTEST_GUILESS_MAIN(TestTrainGuards)
#include "test_train_guards.moc"
