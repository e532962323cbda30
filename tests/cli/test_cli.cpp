// prunelab-cli end to end: `info --json` counts, `infer` against PyTorch outputs, and
// `prune --normalize` (the planners' score normalisation, shared with the workbench), and
// random calibration by seed.

#include <ATen/ATen.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "test_helpers.h"

using prunelab::test::refPath;

namespace {

using Run = prunelab::test::CliRun;
Run cli(const QStringList& args) { return prunelab::test::runCli(args); }

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void infoJson() {
    const Run r = cli({"info", "--model", "resnet18", "--num-classes", "10", "--input", "3x32x32", "--json"});
    QVERIFY2(r.code == 0, r.err.c_str());
    const auto j = nlohmann::json::parse(r.out);
    QCOMPARE(j.at("params").get<long long>(), 11181642LL);
    const double macs = j.at("macs").get<double>();
    QVERIFY2(std::abs(macs - 37.03e6) <= 0.005 * 37.03e6, std::to_string(macs).c_str());
    QVERIFY(j.at("layers").size() > 50);
    QCOMPARE(j.at("layers")[0].at("name").get<std::string>(), std::string("conv1"));
  }

  void infoTable() {
    const Run r = cli({"info", "--model", "mobilenet_v2", "--num-classes", "10"});
    QVERIFY2(r.code == 0, r.err.c_str());
    QVERIFY(r.out.find("features.17.conv.2") != std::string::npos);
    QVERIFY(r.out.find("2236682 params") != std::string::npos);
  }

  void inferMatchesPyTorch_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("resnet18") << "resnet18";
    QTest::newRow("mobilenet_v2") << "mobilenet_v2";
  }
  void inferMatchesPyTorch() {
    QFETCH(QString, model);
    const QString out = m_dir.path() + "/" + model + "_out.npy";
    const Run r = cli({"infer", "--model", model, "--num-classes", "10", "--weights",
                       QString::fromStdString(refPath(model.toStdString() + ".pt")), "--input",
                       QString::fromStdString(refPath(model.toStdString() + "_input.npy")), "--output", out});
    QVERIFY2(r.code == 0, r.err.c_str());
    const at::Tensor expected = prunelab::readNpy(refPath(model.toStdString() + "_output.npy"));
    PRUNELAB_VERIFY_DEPENDS_ON_INPUT(
        prunelab::test::maxAbsDiff(expected, prunelab::readNpy(refPath(model.toStdString() + "_zero_output.npy"))), 1e-4);
    PRUNELAB_COMPARE_TENSORS(prunelab::readNpy(out.toStdString()), expected, 1e-4);
  }

  // export reads its file back and reports the difference; with --no-check it says that no
  // check ran (JSON null, text "not checked") instead of a number that looks like a pass.
  void exportSaysWhetherItChecked() {
    const QString plm = m_dir.path() + "/r20.plm";
    const Run checked = cli({"export", "--model", "resnet20", "--out", plm, "--json"});
    QVERIFY2(checked.code == 0, checked.err.c_str());
    const auto diff = nlohmann::json::parse(checked.out).at("max_rel_diff");
    QVERIFY2(diff.is_number() && diff.get<double>() >= 0 && diff.get<double>() <= 1e-5, checked.out.c_str());
    const Run unchecked = cli({"export", "--model", "resnet20", "--out", plm, "--no-check", "--json"});
    QVERIFY2(unchecked.code == 0, unchecked.err.c_str());
    QVERIFY2(nlohmann::json::parse(unchecked.out).at("max_rel_diff").is_null(), unchecked.out.c_str());
    const Run text = cli({"export", "--model", "resnet20", "--out", plm, "--no-check"});
    QVERIFY2(text.code == 0, text.err.c_str());
    QVERIFY2(text.out.find("not checked") != std::string::npos, text.out.c_str());
    QVERIFY2(text.out.find("difference") == std::string::npos, text.out.c_str());
  }

  void inferOutputDir() {
    const QString dir = m_dir.path() + "/outs";
    const Run r = cli({"infer", "--model", "resnet20", "--input", QString::fromStdString(refPath("resnet20_input.npy")),
                       "--output-dir", dir});
    QVERIFY2(r.code == 0, r.err.c_str());
    QCOMPARE(prunelab::readNpy((dir + "/output0.npy").toStdString()).sizes().vec(), (std::vector<int64_t>{2, 10}));
  }

  void pruneNormalize() {
    auto layers = [&](const QStringList& extra, const char* criterion = "l2") {
      QStringList args{"prune", "--model", "resnet20", "--criterion", criterion, "--percent", "0.3", "--json",
                       "--out", m_dir.path() + "/n.plm"};
      const Run r = cli(args + extra);
      if (r.code != 0) qFatal("prune failed: %s", r.err.c_str());
      const auto j = nlohmann::json::parse(r.out);
      return std::make_pair(j.at("normalize").get<std::string>(), j.at("layers").dump());
    };
    const auto byDefault = layers({});
    const auto none = layers({"--normalize", "none"});
    const auto mean = layers({"--normalize", "mean"});
    // auto ranks a global percent of weight norms by the layer-normalised score (raw norms
    // differ in scale from layer to layer), and |gamma| (bn) raw, as network slimming does.
    QCOMPARE(byDefault.first, std::string("auto"));
    QCOMPARE(mean.first, std::string("mean"));
    QCOMPARE(byDefault.second, mean.second);
    QVERIFY(mean.second != none.second);
    QCOMPARE(layers({}, "bn").second, layers({"--normalize", "none"}, "bn").second);
    const Run bad = cli({"prune", "--model", "resnet20", "--percent", "0.3", "--normalize", "median", "--out",
                         m_dir.path() + "/bad.plm"});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.find("--normalize") != std::string::npos && bad.err.find("auto, none, mean") != std::string::npos,
             bad.err.c_str());
    const Run help = cli({"prune", "--help"});
    QVERIFY2(help.out.find("--normalize") != std::string::npos, help.out.c_str());
  }

  // A global l1 percent on the demo detector: by default (layer-normalised ranking) no layer
  // falls to one channel; ranked raw, layers do, and prune names them in a warning.
  void channelFloorWarning() {
    const QString det = QString(PRUNELAB_SOURCE_DIR) + "/resources/demo/detector.plm";
    const Run safe = cli({"prune", "--model", det, "--criterion", "l1", "--percent", "0.3", "--json", "--out",
                          m_dir.path() + "/det_safe.plm"});
    QVERIFY2(safe.code == 0, safe.err.c_str());
    for (const auto& l : nlohmann::json::parse(safe.out).at("layers"))
      QVERIFY2(l.at("after").get<int64_t>() > 1, l.dump().c_str());
    QVERIFY2(safe.err.find("warning") == std::string::npos, safe.err.c_str());
    const Run raw = cli({"prune", "--model", det, "--criterion", "l1", "--percent", "0.3", "--normalize", "none",
                         "--out", m_dir.path() + "/det_raw.plm"});
    QVERIFY2(raw.code == 0, raw.err.c_str());
    QVERIFY2(raw.err.find("warning: ") != std::string::npos && raw.err.find("channel floor (1): model.") != std::string::npos,
             raw.err.c_str());
  }

  // README (Pruning): a data-driven criterion without --calib scores on random inputs drawn
  // from --seed: the same seed cuts the same channels, another seed others. One image of
  // calibration: over the default 4 x 32 the mean activations of a random network converge
  // so well that two seeds rank ResNet-20's channels alike.
  void activationWithoutCalibIsSeeded() {
    const auto pruned = [&](const QString& seed, const QString& name) {
      const QString out = m_dir.path() + "/" + name + ".plm";
      const Run r = cli({"prune", "--model", "resnet20", "--criterion", "activation", "--percent", "0.3", "--seed", seed,
                         "--calib-batches", "1", "--calib-batch", "1", "--out", out});
      if (r.code != 0) qFatal("prune failed: %s", r.err.c_str());
      return prunelab::loadCheckpoint(out.toStdString()).graph.stateDict();
    };
    const auto a = pruned("1", "act1"), again = pruned("1", "act1b"), other = pruned("2", "act2");
    const auto same = [](const auto& x, const auto& y) {
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i].first != y[i].first || !x[i].second.sizes().equals(y[i].second.sizes()) ||
            !at::equal(x[i].second, y[i].second))
          return false;
      return true;
    };
    QVERIFY2(same(a, again), "the same seed cut other channels");
    QVERIFY2(!same(a, other), "another seed cut the same channels: the scores do not depend on the random inputs");
  }

  void errorsAreClear() {
    Run r = cli({"info", "--model", "resnet99"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("resnet99") != std::string::npos, r.err.c_str());
    r = cli({"info", "--model", "resnet18", "--bogus"});
    QCOMPARE(r.code, 2);  // a usage error (README: exit codes)
    QVERIFY2(r.err.find("--bogus") != std::string::npos, r.err.c_str());
    r = cli({"infer", "--model", "resnet20", "--weights", QString::fromStdString(refPath("resnet18.pt")), "--input",
             QString::fromStdString(refPath("resnet20_input.npy")), "--output", m_dir.path() + "/x.npy"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("resnet18.pt") != std::string::npos && r.err.find("unexpected keys") != std::string::npos,
             r.err.c_str());
    r = cli({"infer", "--model", "resnet18", "--input", QString::fromStdString(refPath("resnet20_input.npy")),
             "--output", m_dir.path() + "/y.npy", "--in-channels", "1"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.find("conv1") != std::string::npos, r.err.c_str());
    r = cli({"--version"});
    QCOMPARE(r.code, 0);
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
