// `prunelab-cli train --sparsity-target F --by-epoch E` (issue 18 item 6): from the demo
// classifier (ResNet-20, Fashion-MNIST) on a small budget, the sr autopilot brings the
// fraction of BN |gamma| below 0.01 to within 0.05 of 0.4 by epoch 3, and the run's files
// hold the sr curve it took. Bad values name their option.

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>
#include <map>
#include <sstream>

#include "test_helpers.h"

using namespace prunelab::test;

namespace {

// A CSV file as rows of column -> cell text.
std::vector<std::map<std::string, std::string>> readCsv(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::stringstream ss(l);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    if (!l.empty() && l.back() == ',') cells.emplace_back();
    return cells;
  };
  if (std::getline(in, line)) header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

const QString kDemo = QString(PRUNELAB_SOURCE_DIR) + "/resources/demo/classifier.plm";

}  // namespace

class TestSrAutopilotCli : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void reachesTheTargetFromTheDemoClassifier() {
    const QString run = m_dir.path() + "/pilot";
    // 3 x 48 steps. The metric guard is off: on a budget this small, taking 40% of the
    // channels to zero costs more than its default 5 points of top-1 however the push is
    // spread (BENCHMARKS.md, "sr autopilot"), and the guard would rightly stop short.
    const CliRun r = runCli({"train", "--model", kDemo, "--data", "fashion-mnist", "--epochs", "3", "--train-limit",
                             "1536", "--val-limit", "256", "--batch", "32", "--sparsity-target", "0.4", "--by-epoch",
                             "3", "--sparsity-max-drop", "0", "--out", run});
    qInfo("%s", r.out.c_str());
    QVERIFY2(r.code == 0, r.err.c_str());
    const auto epochs = readCsv(run.toStdString() + "/results.csv");
    QCOMPARE(epochs.size(), size_t(3));
    const double fraction = std::stod(epochs.back().at("sparse_fraction"));
    qInfo("sparse fraction after epoch 3: %.3f (target 0.4)", fraction);
    QVERIFY2(std::fabs(fraction - 0.4) <= 0.05, qPrintable(QString::number(fraction)));
    for (const auto& e : epochs) {
      QVERIFY(!e.at("sr").empty());
      QVERIFY(!e.at("sparse_target").empty());  // the pilot steered every epoch
    }
    QCOMPARE(std::stod(epochs.back().at("sparse_target")), 0.4);

    // The sr curve: one row per step, sr moving, the fraction rising from ~0 toward 0.4.
    const auto curve = readCsv(run.toStdString() + "/sr_autopilot.csv");
    QCOMPARE(curve.size(), size_t(3 * 1536 / 32));
    double lo = 1e9, hi = 0;
    for (const auto& row : curve) {
      lo = std::min(lo, std::stod(row.at("sr")));
      hi = std::max(hi, std::stod(row.at("sr")));
    }
    qInfo("sr moved between %.3g and %.3g", lo, hi);
    QVERIFY2(hi > 3 * lo, "sr hardly moved: no autopilot at work");
    QVERIFY(std::stod(curve.front().at("sparse_fraction")) < 0.2);
    QVERIFY(std::fabs(std::stod(curve.back().at("epoch")) - (3.0 - 1.0 / 48)) < 1e-4);  // the last step's position
    QVERIFY2(r.out.find("sr autopilot:") != std::string::npos, "the log does not mention the autopilot");
  }

  void badValuesNameTheOption_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("option");
    QTest::newRow("target 0") << QStringList{"--sparsity-target", "0", "--by-epoch", "2"} << "--sparsity-target";
    QTest::newRow("target 1") << QStringList{"--sparsity-target", "1", "--by-epoch", "2"} << "--sparsity-target";
    QTest::newRow("target 1.5") << QStringList{"--sparsity-target", "1.5", "--by-epoch", "2"} << "--sparsity-target";
    QTest::newRow("target -0.1") << QStringList{"--sparsity-target", "-0.1", "--by-epoch", "2"} << "--sparsity-target";
    QTest::newRow("by-epoch 0") << QStringList{"--sparsity-target", "0.4", "--by-epoch", "0"} << "--by-epoch";
    QTest::newRow("by-epoch after --epochs") << QStringList{"--sparsity-target", "0.4", "--by-epoch", "4"}
                                             << "--by-epoch";
    QTest::newRow("no by-epoch") << QStringList{"--sparsity-target", "0.4"} << "--by-epoch";
    QTest::newRow("by-epoch alone") << QStringList{"--by-epoch", "2"} << "--by-epoch";
    QTest::newRow("threshold 0") << QStringList{"--sparsity-target", "0.4", "--by-epoch", "2", "--sparsity-threshold",
                                                "0"}
                                 << "--sparsity-threshold";
  }
  void badValuesNameTheOption() {
    QFETCH(QStringList, args);
    QFETCH(QString, option);
    const CliRun r = runCli(QStringList{"train", "--model", kDemo, "--data", "fashion-mnist", "--epochs", "3", "--out",
                                        m_dir.path() + "/bad"} +
                            args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.find(option.toStdString() + ":") != std::string::npos, r.err.c_str());
    QVERIFY(!QFileInfo::exists(m_dir.path() + "/bad"));  // refused before anything was written
  }
};

QTEST_GUILESS_MAIN(TestSrAutopilotCli)
#include "test_sr_autopilot_cli.moc"
