// One planner: the real `prunelab-cli prune` and the workbench's Prune plan remove the same
// channels.
//
// The CLI side is the built executable (PRUNELAB_CLI), run as a user runs it:
//   prunelab-cli prune --model M --criterion C [--calib DATA] --min-channels 2 --round-to 4
//                      (--percent 0.3 | --ratios F.yaml | --target-macs N) --out P.plm --json
// Its removed channels are read back from what it wrote: the pruned .plm keeps the surgery
// log (info "surgery_log": each group's first source and the output channels it lost), and
// --json gives the costs before and after.
//
// The workbench side is a Worker that loads the same file (and opens the same data for the
// criteria that need data) and scores it, and a PruneModel (the Prune panel's plan) over the
// worker's skeleton and scores, edited as the panel edits it: a global percent (also with
// --normalize mean for the data-free criteria), one ratio per layer, a MACs target. Nothing of the CLI's request is rebuilt here, and no score is computed
// by the test itself.
//
// Models: the demo classifier (ResNet-20 on Fashion-MNIST; data criteria calibrate on
// Fashion-MNIST) and the demo detector (a YOLOv8 at 160 px; data criteria calibrate on a
// small fashion-det set made by `prunelab-cli make-dataset`). Criteria: every one core
// knows (pruning/importance.h), each of which `prune --help` must offer.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "exec/runtime.h"
#include "gui/prune_model.h"
#include "gui/worker.h"
#include "io/checkpoint.h"
#include "pruning/importance.h"
#include "pruning/plan_log.h"
#include "util/error.h"
#include "util/resources.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {

constexpr int kCliTimeoutMs = 300000;

struct Cli {
  int code = -1;
  std::string out, err;
};

Cli runCli(const QStringList& args) {
  QProcess p;
  p.start(PRUNELAB_CLI, args);
  Cli r;
  if (!p.waitForFinished(kCliTimeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = "timeout";
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput().toStdString();
  r.err = p.readAllStandardError().toStdString();
  return r;
}

// Every criterion core defines, by its own name.
std::vector<std::string> coreCriteria() {
  std::vector<std::string> names;
  for (int c = 0; c <= static_cast<int>(Criterion::Random); ++c) names.push_back(criterionName(static_cast<Criterion>(c)));
  return names;
}

enum class Mode { Percent, PercentMean, Ratios, TargetMacs };
const char* modeName(Mode m) {
  switch (m) {
    case Mode::Percent: return "--percent 0.3";
    case Mode::PercentMean: return "--percent 0.3 --normalize mean";
    case Mode::Ratios: return "--ratios";
    case Mode::TargetMacs: return "--target-macs 60%";
  }
  return "";
}

// The constraints both sides get: --min-channels 2 --round-to 4, normalisation auto (the
// CLI's and the workbench's default) or, for PercentMean, --normalize mean.
PlanConstraints constraints(Mode m) {
  PlanConstraints c;
  c.minChannels = 2;
  c.roundTo = 4;
  if (m == Mode::PercentMean) c.normalize = ScoreNormalization::GroupMean;
  return c;
}

// One ratio per layer that creates a prunable group, cycling through a few values (a YAML map
// names each layer once; a C2f cv1 names two groups).
std::vector<std::pair<std::string, double>> layerRatios(const DependencyGraph& deps) {
  const double ratios[] = {0.1, 0.25, 0.4, 0.55, 0.3, 0.75};
  std::vector<std::pair<std::string, double>> r;
  std::set<std::string> seen;
  for (const Group& g : deps.groups())
    if (g.prunable() && seen.insert(g.name).second) r.emplace_back(g.name, ratios[r.size() % 6]);
  return r;
}

// The surgery log a pruned .plm written by `prunelab-cli prune` carries.
std::vector<SurgeryLogEntry> cliLog(const std::string& plm) {
  const Checkpoint ck = loadCheckpoint(plm);
  const auto it = ck.info.find("surgery_log");
  if (it == ck.info.end()) throw Error(plm, "has no surgery_log");
  std::vector<SurgeryLogEntry> log;
  for (const auto& e : nlohmann::json::parse(it->second))
    log.push_back({e.at("source").get<std::string>(), e.at("channels").get<std::vector<int64_t>>()});
  return log;
}

// A workbench-side model: the Worker that loaded it (with its data open) and what it emitted.
struct WorkbenchModel {
  std::unique_ptr<Worker> worker;
  std::shared_ptr<const Graph> skeleton;
  std::map<std::string, std::vector<std::vector<double>>> scores;
  QStringList failures;
};

struct ModelCase {
  QString name;   // row name
  QString model;  // --model
  QString calib;  // --calib / the worker's open data
  int64_t imageSize = 0;
};

}  // namespace

class TestOnePlanner : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase();
  void cliOffersEveryCoreCriterion();
  void samePlans_data();
  void samePlans();

 private:
  ModelCase modelCase(const QString& name) const;
  WorkbenchModel& workbench(const ModelCase& mc);
  QTemporaryDir m_dir;
  QString m_detData;
  std::map<QString, WorkbenchModel> m_models;
};

void TestOnePlanner::initTestCase() {
  QVERIFY(m_dir.isValid());
  configureThreads(0);
  // A small fashion-det set for the detector's data-driven criteria (128 calibration images
  // are drawn from it: 4 batches of 32, the CLI's and the worker's default).
  m_detData = m_dir.filePath("det");
  const Cli made = runCli({"make-dataset", "fashion-det", "--out", m_detData, "--train", "32", "--val", "8", "--size",
                           "160"});
  QVERIFY2(made.code == 0, made.err.c_str());
}

void TestOnePlanner::cliOffersEveryCoreCriterion() {
  const Cli help = runCli({"prune", "--help"});
  QCOMPARE(help.code, 0);
  for (const std::string& c : coreCriteria())
    QVERIFY2(help.out.find(c) != std::string::npos, ("prune --help does not offer " + c).c_str());
}

ModelCase TestOnePlanner::modelCase(const QString& name) const {
  const QString demo = QString::fromStdString(resourceDir()) + "/demo/";
  if (name == "classifier") return {name, demo + "classifier.plm", "fashion-mnist", 0};
  return {name, demo + "detector.plm", m_detData + "/data.yaml", 160};
}

WorkbenchModel& TestOnePlanner::workbench(const ModelCase& mc) {
  auto it = m_models.find(mc.name);
  if (it != m_models.end()) return it->second;
  WorkbenchModel& w = m_models[mc.name];
  w.worker = std::make_unique<Worker>();
  Worker* worker = w.worker.get();
  QObject::connect(worker, &Worker::modelChanged, [&w](const ModelSnapshot& s) { w.skeleton = s.skeleton; });
  QObject::connect(worker, &Worker::scoresReady,
                   [&w](const QString& c, const std::shared_ptr<const std::vector<std::vector<double>>>& s) {
                     w.scores[c.toStdString()] = *s;
                   });
  QObject::connect(worker, &Worker::failed,
                   [&w](const QString& task, const QString& m) { w.failures << task + ": " + m; });
  DataSpec data;
  data.spec = mc.calib.toStdString();
  worker->openData(data);  // direct calls: the worker lives on this thread here
  ModelSpec spec;
  spec.model = mc.model.toStdString();
  spec.imageSize = mc.imageSize;
  worker->loadModel(spec);
  return w;
}

void TestOnePlanner::samePlans_data() {
  QTest::addColumn<QString>("model");
  QTest::addColumn<QString>("criterion");
  for (const char* model : {"classifier", "detector"})
    for (const std::string& criterion : coreCriteria())
      QTest::newRow(qPrintable(QString("%1 %2").arg(model, criterion.c_str())))
          << QString(model) << QString::fromStdString(criterion);
}

void TestOnePlanner::samePlans() {
  QFETCH(QString, model);
  QFETCH(QString, criterion);
  const ModelCase mc = modelCase(model);
  WorkbenchModel& wb = workbench(mc);
  wb.worker->computeImportance(criterion);
  QVERIFY2(wb.failures.isEmpty(), qPrintable(wb.failures.join("; ")));
  QVERIFY(wb.skeleton != nullptr);
  QVERIFY(wb.scores.count(criterion.toStdString()));
  const auto& scores = wb.scores.at(criterion.toStdString());
  const bool withData = needsCalibration(parseCriterion(criterion.toStdString()));

  // --normalize mean on the data-free criteria only: the planner does not care where the
  // scores come from, and each data-driven run calibrates again.
  std::vector<Mode> modes{Mode::Percent, Mode::Ratios, Mode::TargetMacs};
  if (!withData) modes.push_back(Mode::PercentMean);
  // Each mode's CLI run starts as soon as its workbench plan is made; they run side by side.
  struct Run {
    Mode mode;
    QByteArray what;
    std::unique_ptr<PruneModel> plan;
    QString out;
    std::unique_ptr<QProcess> cli;
  };
  std::vector<Run> runs;
  for (Mode mode : modes) {
    const QByteArray what = QString("%1 %2 %3").arg(model, criterion, modeName(mode)).toUtf8();
    // The workbench: the Prune panel's plan over the worker's skeleton and scores.
    auto plan = std::make_unique<PruneModel>();
    PruneModel& m = *plan;
    m.setGraph(wb.skeleton);
    m.setScores(scores, criterion.toStdString());
    m.setConstraints(constraints(mode));
    const DependencyGraph& deps = m.deps();
    const QString out = m_dir.filePath(QString("%1_%2_%3.plm").arg(model, criterion).arg(static_cast<int>(mode)));
    QStringList args{"prune", "--model", mc.model, "--criterion", criterion, "--min-channels", "2",
                     "--round-to", "4", "--out", out, "--json"};
    if (withData) args << "--calib" << mc.calib;
    switch (mode) {
      case Mode::Percent:
        args << "--percent" << "0.3";
        m.setGlobalPercent(0.3);
        break;
      case Mode::PercentMean:
        args << "--percent" << "0.3" << "--normalize" << "mean";
        m.setGlobalPercent(0.3);
        break;
      case Mode::Ratios: {
        const auto entries = layerRatios(deps);
        QString yaml;
        for (const auto& [layer, ratio] : entries) yaml += QString("%1: %2\n").arg(layer.c_str()).arg(ratio);
        const QString file = m_dir.filePath(model + "_ratios.yaml");
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(yaml.toUtf8());
        f.close();
        args << "--ratios" << file;
        // One table edit per entry. The file's first matching entry wins and an edit
        // overrides the earlier ones, so the edits go from the last entry to the first.
        for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
          const int g = m.groupOfLayer(e->first);
          const bool unscored = std::isnan(scores[g][0]);  // bn without BatchNorm: --ratios leaves it
          try {
            m.setLayerRatio(e->first, e->second);
            QVERIFY2(!unscored, what.constData());
          } catch (const Error&) {
            QVERIFY2(unscored, what.constData());
          }
        }
        break;
      }
      case Mode::TargetMacs: {
        const int64_t target = static_cast<int64_t>(0.6 * double(m.before().macs));
        args << "--target-macs" << QString::number(target);
        m.setTarget(target, false);
        break;
      }
    }
    auto process = std::make_unique<QProcess>();
    process->start(PRUNELAB_CLI, args);
    runs.push_back({mode, what, std::move(plan), out, std::move(process)});
  }
  for (Run& run : runs) {
    const Mode mode = run.mode;
    const QByteArray& what = run.what;
    const PruneModel& m = *run.plan;
    const DependencyGraph& deps = m.deps();
    const QString& out = run.out;
    QVERIFY2(run.cli->waitForFinished(kCliTimeoutMs), what.constData());
    Cli cli;
    cli.code = run.cli->exitStatus() == QProcess::NormalExit ? run.cli->exitCode() : -1;
    cli.out = run.cli->readAllStandardOutput().toStdString();
    cli.err = run.cli->readAllStandardError().toStdString();
    QVERIFY2(cli.code == 0, (what + ": " + QByteArray::fromStdString(cli.err)).constData());
    const auto report = nlohmann::json::parse(cli.out);
    const std::vector<SurgeryLogEntry> log = cliLog(out.toStdString());

    // Both sides saw the same model at the same input size.
    QCOMPARE(report.at("macs_before").get<int64_t>(), m.before().macs);
    QCOMPARE(report.at("params_before").get<int64_t>(), m.before().params);
    // Same removed channels in every group ...
    const PrunePlan cliPlan = planFromLog(deps, log);
    QVERIFY2(cliPlan.removedCount() > 0, what.constData());  // a comparison of two empty plans proves nothing
    for (size_t g = 0; g < deps.groups().size(); ++g) {
      const QByteArray where = what + " group " + QByteArray::fromStdString(deps.groups()[g].name);
      QVERIFY2(m.plan().removed[g] == cliPlan.removed[g],
               (where + QString(": workbench removes %1, prunelab-cli %2")
                            .arg(m.plan().removed[g].size())
                            .arg(cliPlan.removed[g].size())
                            .toUtf8())
                   .constData());
    }
    // ... the log the workbench sends to its worker is the CLI's surgery log, entry for entry ...
    const auto guiLog = m.planLog();
    QCOMPARE(guiLog.size(), log.size());
    for (size_t i = 0; i < guiLog.size(); ++i) {
      QVERIFY2(guiLog[i].source == log[i].source, what.constData());
      QVERIFY2(guiLog[i].channels == log[i].channels, what.constData());
    }
    // ... and the what-if is what the CLI's surgery produced.
    QCOMPARE(m.whatIf().macs, report.at("macs_after").get<int64_t>());
    QCOMPARE(m.whatIf().params, report.at("params_after").get<int64_t>());
    if (mode == Mode::TargetMacs) QVERIFY2(report.at("macs_after").get<int64_t>() <= m.before().macs * 6 / 10 + 1, what.constData());
    if ((mode == Mode::Percent || mode == Mode::PercentMean) && report.contains("highest_safe_percent"))
      QCOMPARE(m.highestSafePercent(), report.at("highest_safe_percent").get<double>());
  }
}

QTEST_GUILESS_MAIN(TestOnePlanner)
#include "test_one_planner.moc"
