// `prunelab-cli train` survives SIGKILL at random points: every checkpoint on disk
// still loads, and --resume finishes the run.

#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"

namespace {
QStringList trainArgs(const QString& runDir) {
  return {"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "5", "--train-limit", "768",
          "--val-limit", "256", "--batch", "64", "--out", runDir, "--resume", "--json"};
}
}  // namespace

class TestTrainCli : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void killAndResume() {
    const QString run = m_dir.path() + "/run";
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("kill schedule seed %u", seed);
    QRandomGenerator rng(seed);
    int kills = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
      QProcess p;
      p.start(PRUNELAB_CLI, trainArgs(run));
      QVERIFY(p.waitForStarted());
      const int ms = 700 + static_cast<int>(rng.bounded(3500u));
      if (p.waitForFinished(ms)) break;  // finished before the kill
      p.kill();                          // SIGKILL: no chance to clean up
      p.waitForFinished();
      ++kills;
      for (const auto& e : std::filesystem::directory_iterator(run.toStdString())) {
        if (e.path().extension() != ".plm") continue;
        try {
          prunelab::loadCheckpoint(e.path().string());
        } catch (const std::exception& ex) {
          QFAIL(qPrintable(QString("after kill %1 at %2 ms: %3").arg(kills).arg(ms).arg(ex.what())));
        }
      }
    }
    QVERIFY(kills >= 1);
    QProcess p;
    p.start(PRUNELAB_CLI, trainArgs(run));
    QVERIFY(p.waitForFinished(600000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const auto j = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    QCOMPARE(j.at("epochs_completed").get<int>(), 5);
    const prunelab::Checkpoint last = prunelab::loadCheckpoint((run + "/last.plm").toStdString());
    QCOMPARE(last.info.at("epoch"), std::string("4"));
    std::ifstream csv((run + "/results.csv").toStdString());
    QCOMPARE(std::count(std::istreambuf_iterator<char>(csv), {}, '\n'), 6L);  // header + 5 epochs, none twice
  }
};

QTEST_GUILESS_MAIN(TestTrainCli)
#include "test_train_cli.moc"
