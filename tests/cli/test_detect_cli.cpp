// The detector workflow from the command line on a tiny fashion-det: make-dataset,
// train (and sparse-train) with --data data.yaml, eval, BN-percent prune, fine-tune the
// pruned model; and bad YOLO data reported with the file and line.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace {

using Run = prunelab::test::CliRun;
Run cli(const QStringList& args) { return prunelab::test::runCli(args); }

nlohmann::json jsonOf(const Run& r) { return nlohmann::json::parse(r.out.substr(r.out.find('{'))); }

}  // namespace

class TestDetectCli : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  QString m_data;

 private Q_SLOTS:
  void makeDataset() {
    const QString out = m_dir.path() + "/fd";
    const Run r = cli({"make-dataset", "fashion-det", "--out", out, "--train", "32", "--val", "16", "--size", "96",
                       "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    const auto j = jsonOf(r);
    QCOMPARE(j.at("train_images").get<int>(), 32);
    QVERIFY(j.at("train_objects").get<int>() >= 32);
    m_data = out + "/data.yaml";
    QVERIFY(std::filesystem::exists(m_data.toStdString()));
  }

  void trainEvalPruneFineTune() {
    const QString run = m_dir.path() + "/run";
    Run r = cli({"train", "--model", "yolov8n", "--data", m_data, "--imgsz", "96", "--epochs", "2", "--batch", "8",
                 "--sr", "1e-3", "--out", run, "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    auto j = jsonOf(r);
    QCOMPARE(j.at("task").get<std::string>(), std::string("detect"));
    for (const char* k : {"metrics/mAP50", "metrics/mAP50-95", "train/box_loss", "train/dfl_loss", "bn_gamma_abs_mean"})
      QVERIFY2(j.contains(k), k);
    std::ifstream csv((run + "/results.csv").toStdString());
    std::string header;
    std::getline(csv, header);
    QVERIFY2(header.find("metrics/mAP50-95") != std::string::npos && header.find("bn/gamma_mean") != std::string::npos,
             header.c_str());

    r = cli({"eval", "--model", run + "/last.plm", "--data", m_data, "--imgsz", "96", "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    j = jsonOf(r);
    QCOMPARE(j.at("images").get<int>(), 16);
    QVERIFY(j.at("per_class").size() == 10);

    const QString pruned = m_dir.path() + "/pruned.plm";
    r = cli({"prune", "--model", run + "/last.plm", "--input", "3x96x96", "--criterion", "bn", "--percent", "0.3",
             "--out", pruned, "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    j = jsonOf(r);
    QVERIFY(j.at("macs_after").get<double>() < 0.9 * j.at("macs_before").get<double>());

    r = cli({"prune", "--model", run + "/last.plm", "--input", "3x96x96", "--criterion", "taylor", "--calib", m_data,
             "--calib-batches", "1", "--calib-batch", "4", "--target-macs",
             QString::number(static_cast<long long>(0.7 * j.at("macs_before").get<double>())), "--out",
             m_dir.path() + "/taylor.plm", "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());

    r = cli({"train", "--model", pruned, "--data", m_data, "--imgsz", "96", "--epochs", "1", "--batch", "8", "--out",
             m_dir.path() + "/ft", "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
  }

  // README (Detection): a data.yaml switches train/eval to detection and `--task detect`
  // forces it: on data that is not YOLO's it names what is missing instead of classifying;
  // `--task classify` keeps a data.yaml from being read as detection; other tasks are refused.
  void taskOption() {
    Run r = cli({"eval", "--model", "yolov8n", "--data", m_data, "--imgsz", "96", "--task", "detect", "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    QCOMPARE(jsonOf(r).at("task").get<std::string>(), std::string("detect"));
    QVERIFY(jsonOf(r).contains("map50_95"));
    r = cli({"eval", "--model", "resnet20", "--data", "fashion-mnist", "--val-limit", "64", "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());  // without --task: classification
    r = cli({"eval", "--model", "resnet20", "--data", "fashion-mnist", "--task", "detect"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("fashion-mnist") != std::string::npos &&
                 r.err.find("detection needs a YOLO data.yaml") != std::string::npos,
             r.err.c_str());
    r = cli({"eval", "--model", "yolov8n", "--data", m_data, "--task", "classify"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("data.yaml") != std::string::npos && r.err.find("mAP") == std::string::npos, r.err.c_str());
    r = cli({"train", "--model", "yolov8n", "--data", m_data, "--task", "segment", "--out", m_dir.path() + "/seg"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("--task") != std::string::npos && r.err.find("classify or detect") != std::string::npos,
             r.err.c_str());
  }

  void badLabelsNameTheFile() {
    const std::filesystem::path root = std::filesystem::path(m_data.toStdString()).parent_path();
    const auto label = root / "labels/train/000003.txt";
    { std::ofstream(label, std::ios::app) << "12 0.5 0.5 0.2 0.2\n"; }
    // As ultralytics does (issue #14): the image with the bad line is skipped with a warning
    // naming file:line and the problem, the split's summary counts it, the run goes on.
    const Run r = cli({"train", "--model", "yolov8n", "--data", m_data, "--imgsz", "96", "--epochs", "1", "--batch",
                       "8", "--out", m_dir.path() + "/bad"});
    QVERIFY2(r.code == 0, r.err.c_str());
    const std::string where = label.string() + ":";
    QVERIFY2(r.err.find(where) != std::string::npos && r.err.find("class 12 is out of range") != std::string::npos,
             r.err.c_str());
    QVERIFY2(r.err.find("1 skipped for bad labels") != std::string::npos, r.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestDetectCli)
#include "test_detect_cli.moc"
