// `prunelab-cli train` survives SIGKILL: a run killed in the middle of an epoch leaves
// checkpoints that load, --resume says where it continues, and the resumed run ends with
// the same weights as the same run left alone; SIGINT and SIGTERM stop it cleanly (exit 130).

#include <ATen/ATen.h>
#include <signal.h>

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "io/checkpoint.h"

namespace {

QStringList trainArgs(const QString& runDir, bool json) {
  QStringList a{"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "5", "--train-limit", "768",
                "--val-limit", "256", "--batch", "64", "--out", runDir, "--resume"};
  if (json) a << "--json";
  return a;
}

// The epoch (0-based) recorded in runDir/last.plm, or -1 while there is none.
int lastEpoch(const QString& runDir) {
  const std::string path = (runDir + "/last.plm").toStdString();
  if (!std::filesystem::exists(path)) return -1;
  try {
    return std::stoi(prunelab::loadCheckpoint(path).info.at("epoch"));
  } catch (const std::exception&) {
    return -1;  // being replaced right now: the rename makes the next look see it whole
  }
}

}  // namespace

class TestTrainCli : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void killAndResume() {
    // The run left alone.
    const QString straight = m_dir.path() + "/straight";
    {
      QProcess p;
      p.start(PRUNELAB_CLI, trainArgs(straight, true));
      QVERIFY(p.waitForFinished(600000));
      QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    }

    // The same run, killed at a random point of epoch 3 (0-based 2) once last.plm holds epoch 2.
    const QString run = m_dir.path() + "/run";
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("kill schedule seed %u", seed);
    QRandomGenerator rng(seed);
    QProcess p;
    p.start(PRUNELAB_CLI, trainArgs(run, true));
    QVERIFY(p.waitForStarted());
    QElapsedTimer clock;
    clock.start();
    while (lastEpoch(run) < 1 && p.state() != QProcess::NotRunning && clock.elapsed() < 600000) QThread::msleep(10);
    QVERIFY2(lastEpoch(run) >= 1, "the run ended or stalled before its second checkpoint");
    QThread::msleep(static_cast<unsigned long>(rng.bounded(300u)));
    p.kill();  // SIGKILL: no chance to clean up
    p.waitForFinished();
    int checkpoints = 0;
    for (const auto& e : std::filesystem::directory_iterator(run.toStdString())) {
      if (e.path().extension() != ".plm") continue;
      try {
        prunelab::loadCheckpoint(e.path().string());
        ++checkpoints;
      } catch (const std::exception& ex) {
        QFAIL(qPrintable(QString("after the kill: %1").arg(ex.what())));
      }
    }
    QVERIFY(checkpoints >= 2);  // last.plm and best.plm
    const int atKill = lastEpoch(run);
    QVERIFY2(atKill >= 1 && atKill <= 3, "the kill did not land in the middle of the run");

    // Resume: it says where it continues, finishes, and matches the run left alone.
    QProcess r;
    r.start(PRUNELAB_CLI, trainArgs(run, false));
    QVERIFY(r.waitForFinished(600000));
    const QString out = r.readAllStandardOutput();
    QVERIFY2(r.exitCode() == 0, r.readAllStandardError().constData());
    const QString expected = QString("after epoch %1; continuing with epoch %2").arg(atKill + 1).arg(atKill + 2);
    QVERIFY2(out.contains(expected), qPrintable(out));
    const prunelab::Checkpoint a = prunelab::loadCheckpoint((straight + "/last.plm").toStdString());
    const prunelab::Checkpoint b = prunelab::loadCheckpoint((run + "/last.plm").toStdString());
    QCOMPARE(b.info.at("epoch"), std::string("4"));
    const auto sa = a.graph.stateDict(), sb = b.graph.stateDict();
    QCOMPARE(sa.size(), sb.size());
    // Same seeds, same data order, restored optimizer and RNG state: the arithmetic is the
    // same, so the weights are equal up to the order of multi-threaded reductions.
    double worst = 0.0;
    for (size_t i = 0; i < sa.size(); ++i) {
      QCOMPARE(sa[i].first, sb[i].first);
      worst = std::max(worst, (sa[i].second.to(at::kDouble) - sb[i].second.to(at::kDouble)).abs().max().item<double>());
    }
    qInfo("largest weight difference, resumed vs uninterrupted: %g", worst);
    QVERIFY2(worst <= 1e-5, qPrintable(QString::number(worst)));
    std::ifstream csv((run + "/results.csv").toStdString());
    QCOMPARE(std::count(std::istreambuf_iterator<char>(csv), {}, '\n'), 6L);  // header + 5 epochs, none twice
  }

  // README (Training): with --imgsz an image folder is resized to N x N and the model's
  // shapes (its MACs) are inferred at N x N: the trained checkpoint records that input.
  void imgszSetsTheModelsInput() {
    const QString data = m_dir.path() + "/folders";
    cv::RNG rng(3);
    for (const char* split : {"train", "val"})
      for (const char* cls : {"cat", "dog"})
        for (int i = 0; i < 8; ++i) {
          const QString dir = QString("%1/%2/%3").arg(data, split, cls);
          QDir().mkpath(dir);
          cv::Mat image(40, 48, CV_8UC3);
          rng.fill(image, cv::RNG::UNIFORM, 0, 255);
          QVERIFY(cv::imwrite(QString("%1/%2.png").arg(dir).arg(i).toStdString(), image));
        }
    const QString run = m_dir.path() + "/imgsz";
    QProcess p;
    p.start(PRUNELAB_CLI, {"train", "--model", "resnet20", "--data", data, "--imgsz", "64", "--epochs", "1", "--batch",
                           "8", "--out", run});
    QVERIFY(p.waitForFinished(300000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const auto info = [&](const QStringList& extra) {
      QProcess q;
      q.start(PRUNELAB_CLI, QStringList{"info", "--model", run + "/last.plm", "--json"} + extra);
      q.waitForFinished(60000);
      const nlohmann::json j = nlohmann::json::parse(q.readAllStandardOutput().toStdString());
      return std::make_pair(j.at("input").get<std::vector<int64_t>>(), j.at("macs").get<int64_t>());
    };
    const auto recorded = info({}), at64 = info({"--input", "3x64x64"}), at32 = info({"--input", "3x32x32"});
    QCOMPARE(recorded.first, (std::vector<int64_t>{3, 64, 64}));
    QCOMPARE(recorded.second, at64.second);
    // Every conv scales with the positions (4x); the 2-class fc does not.
    const double ratio = double(at64.second) / double(at32.second);
    QVERIFY2(ratio > 3.9 && ratio < 4.0, qPrintable(QString::number(ratio)));
  }

  // README (Exit codes): SIGINT and SIGTERM stop training after the current batch with exit
  // code 130 and "stopped after N epochs"; the last checkpoint loads and --resume continues.
  void signalStopsAndResumes() {
    const QString run = m_dir.path() + "/signals";
    int stoppedAt = -1;
    for (const int sig : {SIGINT, SIGTERM}) {
      QProcess p;
      p.start(PRUNELAB_CLI, trainArgs(run, false));
      QVERIFY(p.waitForStarted());
      QElapsedTimer clock;
      clock.start();
      // A checkpoint newer than the last stop: the handlers are installed and an epoch ran.
      while (lastEpoch(run) <= stoppedAt && p.state() != QProcess::NotRunning && clock.elapsed() < 600000)
        QThread::msleep(10);
      QVERIFY2(p.state() == QProcess::Running, "the run ended before it could be stopped");
      const int before = lastEpoch(run);
      QVERIFY(before > stoppedAt && before < 4);
      ::kill(static_cast<pid_t>(p.processId()), sig);
      QVERIFY2(p.waitForFinished(60000), "no stop within 60 s of the signal");
      const QString out = p.readAllStandardOutput();
      QCOMPARE(p.exitStatus(), QProcess::NormalExit);  // handled, not killed by the signal
      QVERIFY2(p.exitCode() == 130, qPrintable(QString::number(p.exitCode()) + " " + p.readAllStandardError()));
      QVERIFY2(out.contains(QRegularExpression("stopped after \\d+ epochs")), qPrintable(out));
      stoppedAt = lastEpoch(run);
      QVERIFY(stoppedAt >= before);  // the checkpoint stays (a stop mid-epoch does not write a partial one)
      prunelab::loadCheckpoint((run + "/last.plm").toStdString());  // throws if damaged
    }
    QProcess r;
    r.start(PRUNELAB_CLI, trainArgs(run, false));
    QVERIFY(r.waitForFinished(600000));
    const QString out = r.readAllStandardOutput();
    QVERIFY2(r.exitCode() == 0, r.readAllStandardError().constData());
    QVERIFY2(out.contains(QString("continuing with epoch %1").arg(stoppedAt + 2)), qPrintable(out));
    QCOMPARE(lastEpoch(run), 4);
  }
};

QTEST_GUILESS_MAIN(TestTrainCli)
#include "test_train_cli.moc"
