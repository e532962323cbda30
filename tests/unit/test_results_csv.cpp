// results.csv as ultralytics writes it: the shared columns carry ultralytics' names in its
// order (the lists below are written out literally, from ultralytics 8.3's trainer and
// validators), PruneLab's own columns follow, every value is the epoch's, and a value
// that was not computed (validation skipped) is an empty cell.

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "train/run_log.h"

using namespace prunelab;

namespace {

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> f;
  std::string cell;
  std::stringstream ss(line);
  while (std::getline(ss, cell, ',')) f.push_back(cell);
  if (!line.empty() && line.back() == ',') f.push_back("");
  return f;
}

std::vector<std::vector<std::string>> readCsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(splitCsv(line));
  return rows;
}

double cell(const std::vector<std::string>& header, const std::vector<std::string>& row, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return std::stod(row.at(i));
  throw std::runtime_error("no column " + name);
}

bool empty(const std::vector<std::string>& header, const std::vector<std::string>& row, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i >= row.size() || row[i].empty();
  return false;
}

EpochStats common(int epoch) {
  EpochStats s;
  s.epoch = epoch;
  s.epochs = 2;
  s.lr = 0.00875 - 0.001 * epoch;
  s.sr = 0.005;
  s.seconds = 12.5 + epoch;
  s.imagesPerSec = 321.0;
  s.gamma.absMean = 0.42;
  s.gamma.fracBelow001 = 0.125;
  s.gamma.p10 = 0.01;
  s.gamma.p50 = 0.3;
  s.gamma.p90 = 0.9;
  return s;
}

}  // namespace

class TestResultsCsv : public QObject {
  Q_OBJECT
  QTemporaryDir m_tmp;

 private Q_SLOTS:
  void detectionColumnsAreUltralytics() {
    const std::vector<std::string> ultralytics = {
        "epoch",          "time",           "train/box_loss",       "train/cls_loss",     "train/dfl_loss",
        "metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)", "val/box_loss",
        "val/cls_loss",   "val/dfl_loss",   "lr/pg0",               "lr/pg1",             "lr/pg2"};
    const std::string dir = (m_tmp.path() + "/det").toStdString();
    std::filesystem::create_directories(dir);
    RunLog log;
    log.open(dir, false);
    // What DetectionTask::endEpoch and validate() put in the stats (their names).
    EpochStats e = common(0);
    e.task = "detect";
    e.trainLoss = 4.75;
    e.valLoss = 5.25;
    e.fitness = 0.1 * 0.61 + 0.9 * 0.37;
    e.taskMetrics = {{"train/box_loss", 1.5},     {"train/dfl_loss", 1.25},  {"train/cls_loss", 2.0},
                     {"val/box_loss", 1.75},      {"val/dfl_loss", 1.5},     {"val/cls_loss", 2.0},
                     {"metrics/precision", 0.55}, {"metrics/recall", 0.45}, {"metrics/mAP50", 0.61},
                     {"metrics/mAP50-95", 0.37}};
    log.append(e);
    EpochStats f = common(1);  // validation skipped (--val-every 2)
    f.task = "detect";
    f.validated = false;
    f.trainLoss = 4.5;
    f.taskMetrics = {{"train/box_loss", 1.4}, {"train/dfl_loss", 1.2}, {"train/cls_loss", 1.9}};
    log.append(f);

    const auto rows = readCsv(dir + "/results.csv");
    QCOMPARE(rows.size(), size_t(3));
    const auto& h = rows[0];
    QVERIFY(h.size() > ultralytics.size());
    QCOMPARE(std::vector<std::string>(h.begin(), h.begin() + long(ultralytics.size())), ultralytics);
    // PruneLab's own columns after them.
    for (const char* own : {"train/loss", "val/loss", "fitness", "sr", "bn/gamma_mean", "time_s", "images_per_s"})
      QVERIFY2(std::find(h.begin() + long(ultralytics.size()), h.end(), own) != h.end(), own);

    const auto& r = rows[1];
    QCOMPARE(r.size(), h.size());
    QCOMPARE(cell(h, r, "epoch"), 1.0);
    QCOMPARE(cell(h, r, "time"), 12.5);
    QCOMPARE(cell(h, r, "train/box_loss"), 1.5);
    QCOMPARE(cell(h, r, "train/cls_loss"), 2.0);
    QCOMPARE(cell(h, r, "train/dfl_loss"), 1.25);
    QCOMPARE(cell(h, r, "metrics/precision(B)"), 0.55);
    QCOMPARE(cell(h, r, "metrics/recall(B)"), 0.45);
    QCOMPARE(cell(h, r, "metrics/mAP50(B)"), 0.61);
    QCOMPARE(cell(h, r, "metrics/mAP50-95(B)"), 0.37);
    QCOMPARE(cell(h, r, "val/box_loss"), 1.75);
    QCOMPARE(cell(h, r, "val/cls_loss"), 2.0);
    QCOMPARE(cell(h, r, "val/dfl_loss"), 1.5);
    for (const char* pg : {"lr/pg0", "lr/pg1", "lr/pg2"}) QCOMPARE(cell(h, r, pg), 0.00875);
    QCOMPARE(cell(h, r, "train/loss"), 4.75);
    QCOMPARE(cell(h, r, "val/loss"), 5.25);
    QVERIFY(std::abs(cell(h, r, "fitness") - (0.1 * 0.61 + 0.9 * 0.37)) < 1e-6);
    QCOMPARE(cell(h, r, "sr"), 0.005);
    QCOMPARE(cell(h, r, "bn/gamma_mean"), 0.42);
    QCOMPARE(cell(h, r, "bn/frac_lt_0.01"), 0.125);
    QCOMPARE(cell(h, r, "time_s"), 12.5);
    QCOMPARE(cell(h, r, "images_per_s"), 321.0);

    // Epoch 2: the train columns are there, the validation ones empty (not 0).
    const auto& s = rows[2];
    QCOMPARE(s.size(), h.size());
    QCOMPARE(cell(h, s, "epoch"), 2.0);
    QCOMPARE(cell(h, s, "time"), 12.5 + 13.5);  // seconds since the run started
    QCOMPARE(cell(h, s, "train/box_loss"), 1.4);
    QCOMPARE(cell(h, s, "lr/pg0"), 0.00775);
    for (const char* v : {"metrics/precision(B)", "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
                          "val/box_loss", "val/cls_loss", "val/dfl_loss", "val/loss", "fitness"})
      QVERIFY2(empty(h, s, v), v);
  }

  void yolov5HeadsLogObjectness() {
    const std::string dir = (m_tmp.path() + "/v5").toStdString();
    std::filesystem::create_directories(dir);
    RunLog log;
    log.open(dir, false);
    EpochStats e = common(0);
    e.task = "detect";
    e.taskMetrics = {{"train/box_loss", 0.1}, {"train/obj_loss", 0.2}, {"train/cls_loss", 0.3}};
    log.append(e);
    const auto rows = readCsv(dir + "/results.csv");
    QCOMPARE(rows[0][4], std::string("train/obj_loss"));
    QCOMPARE(rows[0][11], std::string("val/obj_loss"));
    QCOMPARE(cell(rows[0], rows[1], "train/obj_loss"), 0.2);
  }

  void classificationColumnsAreUltralytics() {
    const std::vector<std::string> ultralytics = {"epoch",    "time",   "train/loss", "metrics/accuracy_top1",
                                                  "metrics/accuracy_top5", "val/loss", "lr/pg0", "lr/pg1", "lr/pg2"};
    const std::string dir = (m_tmp.path() + "/cls").toStdString();
    std::filesystem::create_directories(dir);
    RunLog log;
    log.open(dir, false);
    EpochStats e = common(0);
    e.trainLoss = 0.875;
    e.trainTop1 = 0.625;
    e.valLoss = 0.75;
    e.valTop1 = 0.6875;
    e.valTop5 = 0.96875;
    e.fitness = e.valTop1;
    log.append(e);
    const auto rows = readCsv(dir + "/results.csv");
    QCOMPARE(rows.size(), size_t(2));
    const auto& h = rows[0];
    QCOMPARE(std::vector<std::string>(h.begin(), h.begin() + long(ultralytics.size())), ultralytics);
    const auto& r = rows[1];
    QCOMPARE(cell(h, r, "train/loss"), 0.875);
    QCOMPARE(cell(h, r, "metrics/accuracy_top1"), 0.6875);
    QCOMPARE(cell(h, r, "metrics/accuracy_top5"), 0.96875);
    QCOMPARE(cell(h, r, "val/loss"), 0.75);
    QCOMPARE(cell(h, r, "lr/pg2"), 0.00875);
    QCOMPARE(cell(h, r, "train/top1"), 0.625);
    QCOMPARE(cell(h, r, "bn/gamma_p90"), 0.9);
    // A resumed run keeps the logged rows and their columns.
    RunLog again;
    again.open(dir, true);
    EpochStats f = common(1);
    f.trainLoss = 0.5;
    again.append(f);
    const auto rows2 = readCsv(dir + "/results.csv");
    QCOMPARE(rows2.size(), size_t(3));
    QCOMPARE(rows2[0], h);
    QCOMPARE(cell(h, rows2[1], "train/loss"), 0.875);
    QCOMPARE(cell(h, rows2[2], "train/loss"), 0.5);

    // README: log.jsonl holds the same and more, one JSON object per epoch.
    std::ifstream jsonl(dir + "/log.jsonl");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(jsonl, line);) lines.push_back(nlohmann::json::parse(line));
    QCOMPARE(lines.size(), size_t(2));
    const std::map<std::string, std::string> renamed = {{"metrics/accuracy_top1", "val/top1"},
                                                        {"metrics/accuracy_top5", "val/top5"},
                                                        {"lr/pg0", "lr"}, {"lr/pg1", "lr"}, {"lr/pg2", "lr"}};
    int compared = 0;
    for (size_t row = 0; row < lines.size(); ++row) {
      const nlohmann::json& j = lines[row];
      QCOMPARE(j.at("epoch").get<int>(), int(row) + 1);
      for (size_t c = 0; c < h.size(); ++c) {
        if (h[c] == "time" || empty(h, rows2[row + 1], h[c])) continue;  // time: cumulative, CSV only
        const std::string key = renamed.count(h[c]) ? renamed.at(h[c]) : h[c];
        QVERIFY2(j.contains(key), key.c_str());
        QVERIFY2(std::abs(j.at(key).get<double>() - cell(h, rows2[row + 1], h[c])) <= 1e-6 * std::abs(j.at(key).get<double>()),
                 h[c].c_str());
        ++compared;
      }
      for (const char* more : {"data_wait", "bn/gamma_p25", "bn/gamma_p75", "bn/gamma_max", "sparse_threshold"})
        QVERIFY2(j.contains(more), more);
    }
    QVERIFY2(compared >= 2 * 15, qPrintable(QString::number(compared)));
  }
};

QTEST_GUILESS_MAIN(TestResultsCsv)
#include "test_results_csv.moc"
