// `prunelab-cli train --teacher M [--kd-weight W --kd-temperature T]` (issue 18 item 5):
// the distilled loss is what the run optimises and logs, it measures how far the student
// is from its teacher, and bad input is refused before training, naming the option/file.
// Tiny budgets: one epoch of 256 Fashion-MNIST images.

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "models/model_loader.h"
#include "test_helpers.h"

using prunelab::test::runCli;

namespace {

const QString kDemo = QStringLiteral(PRUNELAB_SOURCE_DIR "/resources/demo/classifier.plm");

QStringList trainArgs(const QString& out, const QStringList& extra) {
  return QStringList{"train", "--model", kDemo, "--data", "fashion-mnist", "--epochs", "1", "--train-limit", "256",
                     "--val-limit", "256", "--batch", "64", "--lr", "0.001", "--warmup", "0", "--threads", "1",
                     "--workers", "1", "--out", out, "--json"} +
         extra;
}

nlohmann::json trainJson(const QString& out, const QStringList& extra) {
  const auto r = runCli(trainArgs(out, extra));
  if (r.code != 0) qWarning("stderr: %s", r.err.c_str());
  return r.code == 0 ? nlohmann::json::parse(r.out.substr(r.out.find('{'))) : nlohmann::json();
}

// A ResNet-20 for Fashion-MNIST with `classes` outputs and untrained weights, as a .plm.
QString untrainedTeacher(const QString& path, int64_t classes) {
  prunelab::ModelRequest r;
  r.model = "resnet20";
  r.numClasses = classes;
  r.inChannels = 1;
  prunelab::Checkpoint ck{prunelab::loadModel(r), {}, {}};
  ck.graph.metadata()["input"] = "1x28x28";
  prunelab::saveCheckpoint(path.toStdString(), ck);
  return path;
}

}  // namespace

class TestDistillCli : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void lossIncludesTheKdTerm() {
    // Teacher == student, W = 1: the optimised loss is the KD term alone, and it is small
    // (only BN's batch statistics in training mode, against the teacher's running ones,
    // separate them).
    const nlohmann::json self =
        trainJson(m_dir.path() + "/self", {"--teacher", kDemo, "--kd-weight", "1", "--kd-temperature", "4"});
    QVERIFY(!self.is_null());
    QVERIFY(self.contains("train/kd_loss") && self.contains("train/ce_loss"));
    const double selfKd = self["train/kd_loss"], selfCe = self["train/ce_loss"];
    qInfo("teacher == student: kd %.5f, ce %.5f", selfKd, selfCe);
    std::ifstream csvIn((m_dir.path() + "/self/results.csv").toStdString());
    std::string header, row;
    std::getline(csvIn, header);
    std::getline(csvIn, row);
    QVERIFY2(header.find("train/ce_loss,train/kd_loss") != std::string::npos, header.c_str());
    // train/loss is the CSV's third column: with W = 1 it equals the KD term.
    const double csvLoss = std::stod(row.substr(row.find(',', row.find(',') + 1) + 1));
    QVERIFY2(std::abs(csvLoss - selfKd) <= 1e-5 * std::max(1.0, selfKd), row.c_str());
    std::ifstream opts((m_dir.path() + "/self/options.json").toStdString());
    const nlohmann::json o = nlohmann::json::parse(opts);
    QCOMPARE(o["kd_weight"].get<double>(), 1.0);
    QCOMPARE(o["kd_temperature"].get<double>(), 4.0);

    // An untrained teacher disagrees with the trained student: a far larger KD term. With
    // W = 0.5 the logged loss is the even mix of the two parts.
    const QString random = untrainedTeacher(m_dir.path() + "/random.plm", 10);
    const nlohmann::json far =
        trainJson(m_dir.path() + "/far", {"--teacher", random, "--kd-weight", "0.5", "--kd-temperature", "4"});
    QVERIFY(!far.is_null());
    std::ifstream log((m_dir.path() + "/far/log.jsonl").toStdString());
    const nlohmann::json row1 = nlohmann::json::parse(log);
    const double farKd = row1["train/kd_loss"], farCe = row1["train/ce_loss"], farLoss = row1["train/loss"];
    qInfo("untrained teacher: kd %.5f, ce %.5f, loss %.5f", farKd, farCe, farLoss);
    QVERIFY2(farKd > 5 * selfKd, qPrintable(QString("%1 vs %2").arg(farKd).arg(selfKd)));
    QVERIFY(std::abs(farLoss - (0.5 * farCe + 0.5 * farKd)) <= 1e-5 * farLoss);

    // Without --teacher, nothing changes: no distillation columns.
    const nlohmann::json plain = trainJson(m_dir.path() + "/plain", {});
    QVERIFY(!plain.is_null());
    QVERIFY(!plain.contains("train/kd_loss"));
  }

  // Distillation and the sr autopilot in one run (both issue 18): the loss is still the
  // W-mix of CE and KD while the pilot moves sr, and the run's files carry both.
  void withTheSrAutopilot() {
    const QString run = m_dir.path() + "/both";
    const nlohmann::json both =
        trainJson(run, {"--teacher", kDemo, "--kd-weight", "0.5", "--sparsity-target", "0.3",
                        "--by-epoch", "1", "--sparsity-max-drop", "0"});
    QVERIFY(!both.is_null());
    std::ifstream log((run + "/log.jsonl").toStdString());
    const nlohmann::json row = nlohmann::json::parse(log);
    QVERIFY2(row.contains("train/kd_loss") && row.contains("sparse_target"), row.dump().c_str());
    const double kd = row["train/kd_loss"], ce = row["train/ce_loss"], loss = row["train/loss"];
    QVERIFY(kd > 0);
    QVERIFY(std::abs(loss - (0.5 * ce + 0.5 * kd)) <= 1e-5 * loss);
    QCOMPARE(row["sparse_target"].get<double>(), 0.3);
    std::ifstream csvIn((run + "/results.csv").toStdString());
    std::string header;
    std::getline(csvIn, header);
    QVERIFY2(header.find("sparse_target") != std::string::npos && header.find("train/kd_loss") != std::string::npos,
             header.c_str());
    // The pilot's curve: one row per step (256 / 64).
    std::ifstream curve((run + "/sr_autopilot.csv").toStdString());
    std::string line;
    std::getline(curve, line);
    const auto srColumn = static_cast<size_t>(std::count(line.begin(), line.begin() + line.find(",sr,") + 1, ','));
    std::vector<double> srs;
    while (std::getline(curve, line)) {
      std::stringstream cells(line);
      std::string cell;
      for (size_t i = 0; i <= srColumn; ++i) std::getline(cells, cell, ',');
      srs.push_back(std::stod(cell));
    }
    QCOMPARE(srs.size(), size_t(4));
    // sr starts at 1e-4 (the pilot's default start); at this tiny lr the controller pushes
    // it far up from the first step on.
    QVERIFY2(*std::min_element(srs.begin(), srs.end()) > 10 * 1e-4, "sr never moved: no autopilot at work");
    std::ifstream opts((run + "/options.json").toStdString());
    const nlohmann::json o = nlohmann::json::parse(opts);
    QCOMPARE(o["kd_weight"].get<double>(), 0.5);
    QCOMPARE(o["sparsity_target"].get<double>(), 0.3);
  }

  void badInputIsNamed() {
    struct Case {
      QStringList extra;
      std::vector<std::string> mentions;
    };
    const QString fiveClasses = untrainedTeacher(m_dir.path() + "/five.plm", 5);
    const std::vector<Case> cases = {
        {{"--teacher", m_dir.path() + "/nope.plm"}, {"--teacher", "nope.plm", "no such file"}},
        {{"--teacher", kDemo, "--kd-weight", "1.5"}, {"--kd-weight", "1.5"}},
        {{"--teacher", kDemo, "--kd-weight", "-0.2"}, {"--kd-weight"}},
        {{"--teacher", kDemo, "--kd-temperature", "0"}, {"--kd-temperature"}},
        {{"--kd-weight", "0.5"}, {"--kd-weight", "--teacher"}},
        {{"--teacher", fiveClasses}, {"--teacher", "five.plm", "[64, 5]", "[64, 10]"}},
    };
    int i = 0;
    for (const Case& c : cases) {
      const QString out = m_dir.path() + "/bad" + QString::number(i++);
      const auto r = runCli(trainArgs(out, c.extra));
      QVERIFY2(r.code != 0, qPrintable(c.extra.join(' ')));
      for (const std::string& m : c.mentions)
        QVERIFY2(r.err.find(m) != std::string::npos, qPrintable(c.extra.join(' ') + " -> " + QString::fromStdString(r.err)));
      QVERIFY2(r.err.find("terminate") == std::string::npos, r.err.c_str());
      QVERIFY(!std::filesystem::exists((out + "/last.plm").toStdString()));  // stopped before any checkpoint
    }
  }
};

QTEST_GUILESS_MAIN(TestDistillCli)
#include "test_distill_cli.moc"
