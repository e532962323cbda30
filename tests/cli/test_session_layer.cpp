// What the front ends share through core: the surgery log's one JSON form, story.json's
// writer and reader, the story's plan and the commands it records (checked against the
// real prunelab-cli's options), the training settings over the task's recipe, and the
// evaluation defaults.

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>
#include <regex>
#include <set>

#include "pruning/plan_log.h"
#include "report/story_manifest.h"
#include "session/evaluation.h"
#include "session/session.h"
#include "session/story_plan.h"
#include "session/train_recipe.h"
#include "test_helpers.h"
#include "util/error.h"

using namespace prunelab;

class TestSessionLayer : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void surgeryLogJsonRoundTrip() {
    const std::vector<SurgeryLogEntry> log = {{"layer1.0.conv1", {0, 3, 17}}, {"model.2.cv1.conv", {}}};
    const std::string text = surgeryLogJson(log);
    QCOMPARE(QString::fromStdString(text),
             QString(R"([{"channels":[0,3,17],"source":"layer1.0.conv1"},{"channels":[],"source":"model.2.cv1.conv"}])"));
    const std::vector<SurgeryLogEntry> back = surgeryLogFromJson(text, "x.plm");
    QCOMPARE(back.size(), log.size());
    for (size_t i = 0; i < log.size(); ++i) {
      QCOMPARE(back[i].source, log[i].source);
      QCOMPARE(back[i].channels, log[i].channels);
    }
  }

  void surgeryLogJsonErrorsNameTheFile() {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"{}", "not a JSON array"},
        {"[{\"source\": 3, \"channels\": []}]", "needs \"source\""},
        {"[{\"source\": \"a\", \"channels\": [-1]}]", "is not a channel index"},
        {"[{\"source\": \"a\", \"channels\": [1.5]}]", "is not a channel index"},
        {"not json", "not a JSON array"}};
    for (const auto& [text, why] : bad) {
      try {
        surgeryLogFromJson(text, "project.prunelab");
        QFAIL(qPrintable(QString::fromStdString("accepted " + text)));
      } catch (const Error& e) {
        const std::string m = e.what();
        QVERIFY2(m.find("project.prunelab") != std::string::npos && m.find(why) != std::string::npos, e.what());
      }
    }
  }

  void storyManifestRoundTrip() {
    QTemporaryDir dir;
    StoryManifest m;
    m.created = "2026-12-07T10:00:00";
    m.model = "classifier.plm";
    m.data = "fashion-mnist (6000 training images)";
    m.task = "classify";
    m.settings = {{"sr", "0.001"}, {"batch", "128"}, {"criterion", "bn"}};
    m.commands = {"prunelab-cli prune --model a.plm --percent 0.4 --out b.plm"};
    m.stages = storyStages();
    m.stages[0].metric = 0.906;
    m.stages[2].metric = 0.885;
    const std::string path = dir.filePath("story.json").toStdString();
    writeStoryManifest(m, path);
    // Numbers are JSON numbers, text stays text (the report shows both as written).
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    QVERIFY2(text.find("\"sr\": 0.001") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"criterion\": \"bn\"") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"metric\": \"top-1\"") != std::string::npos, text.c_str());
    const StoryManifest r = readStoryManifest(path);
    QCOMPARE(r.model, m.model);
    QCOMPARE(r.data, m.data);
    QCOMPARE(r.metric, std::string("top-1"));
    QCOMPARE(r.settings.size(), size_t(3));
    QCOMPARE(r.settings[0].second, std::string("0.001"));
    QCOMPARE(r.settings[2].second, std::string("bn"));
    QCOMPARE(r.commands, m.commands);
    QCOMPARE(r.stages.size(), size_t(4));
    QCOMPARE(r.stages[1].runDir, std::string("sparse"));
    QCOMPARE(r.stages[3].checkpoint, std::string("3-fine-tuned.plm"));
    QCOMPARE(r.stages[0].metric, 0.906);
    QCOMPARE(r.stages[1].metric, -1.0);  // not measured stays unknown
  }

  void storyManifestErrorsNameTheFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("story.json").toStdString();
    QVERIFY_THROWS_EXCEPTION(Error, readStoryManifest(path));  // missing
    std::ofstream(path) << "{\"stages\": [{\"name\": \"original\"}]}";
    try {
      readStoryManifest(path);
      QFAIL("a stage without a checkpoint was accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find(path) != std::string::npos, e.what());
    }
  }

  // The story's plan: network slimming aimed at the cut, dense fine-tuning at a tenth of the lr.
  void storyPlanFollowsItsRecipe() {
    StoryRequest r;
    r.sparseEpochs = 3;
    r.fineTuneEpochs = 2;
    r.percent = 0.4;
    r.batch = 64;
    r.lr = 0.05;
    const StoryPlan p = makeStoryPlan(r);
    QCOMPARE(p.sparse.epochs, 3);
    QCOMPARE(p.sparse.sr, 1e-3);  // no sr given: the autopilot's start
    QCOMPARE(p.sparse.autopilot.target, 0.4);
    QCOMPARE(p.sparse.autopilot.byEpoch, 3);
    QCOMPARE(p.sparse.srTargeted, 0.4);
    QCOMPARE(p.sparse.srBeta, 1.0);
    QCOMPARE(p.fineTune.sr, 0.0);
    QVERIFY(!p.fineTune.autopilot.enabled());
    QCOMPARE(p.fineTune.lr, 0.005);
    QCOMPARE(p.fineTune.batch, int64_t(64));
    r.percent = 1.0;
    QVERIFY_THROWS_EXCEPTION(Error, makeStoryPlan(r));
  }

  // Every option the story's commands use is one the real prunelab-cli offers.
  void storyCommandsUseRealOptions() {
    StoryInvocation at;
    at.runDir = "runs/story";
    at.dataArgs = "--data fashion-mnist --train-limit 6000";
    at.planOptions = " --round-to 8";
    const std::vector<std::string> commands = storyCommands(makeStoryPlan(StoryRequest{}), at);
    QCOMPARE(commands.size(), size_t(5));
    // In steps: prune fine-tunes between its cuts, and the export reads its model.
    StoryRequest inSteps;
    inSteps.cutSteps = 3;
    const StoryPlan stepped = makeStoryPlan(inSteps);
    const std::vector<std::string> steppedCommands = storyCommands(stepped, at);
    QCOMPARE(steppedCommands.size(), size_t(4));
    QVERIFY2(steppedCommands[1].find("--steps 3 --fine-tune-epochs 2") != std::string::npos, steppedCommands[1].c_str());
    QVERIFY2(steppedCommands[2].find("--model runs/story/2-pruned.plm") != std::string::npos, steppedCommands[2].c_str());
    QCOMPARE(storySettings(stepped).back().first, std::string("cut_steps"));
    QVERIFY(storySettings(makeStoryPlan(StoryRequest{})).back().first != "cut_steps");
    const std::regex option("--[a-z][a-z0-9-]*");
    std::vector<std::string> all = commands;
    all.insert(all.end(), steppedCommands.begin(), steppedCommands.end());
    for (const std::string& c : all) {
      std::smatch word;
      QVERIFY2(std::regex_search(c, word, std::regex("^prunelab-cli ([a-z-]+) ")), c.c_str());
      const std::string command = word[1];
      const test::CliRun help = test::runCli({QString::fromStdString(command), "--help"});
      QVERIFY2(help.code == 0, help.err.c_str());
      for (auto it = std::sregex_iterator(c.begin(), c.end(), option); it != std::sregex_iterator(); ++it)
        QVERIFY2(help.out.find(it->str()) != std::string::npos,
                 qPrintable(QString::fromStdString(command + " has no " + it->str() + ": " + c)));
    }
  }

  // The panel's settings over the task's recipe: the values chosen win, the recipe fills
  // in the rest (momentum, warm-up), and the demo presets are sparse runs of that recipe.
  void trainSettingsLayOverTheRecipe() {
    Session session;
    ModelRequest m;
    m.model = "resnet20";
    session.loadModel(m);
    TrainSettings s = recipeSettings(TaskKind::Classify, 4);
    QCOMPARE(s.batch, trainRecipe(TaskKind::Classify, "sgd", 4).batch);
    s.lr = 0.02;
    s.sr = 1e-4;
    s.srTargeted = 0.3;
    s.autopilot.target = 0.3;
    s.autopilot.byEpoch = 2;
    s.prunedNowPercent = 0.25;
    const SessionTrainRequest r = session.trainRequest(s, std::make_shared<TrainControl>(s.sr, s.lr));
    QCOMPARE(r.options.epochs, 4);
    QCOMPARE(r.options.lr, 0.02);
    QCOMPARE(r.options.momentum, trainRecipe(TaskKind::Classify, "sgd", 4).momentum);
    QCOMPARE(r.options.schedule.warmupEpochs, trainRecipe(TaskKind::Classify, "sgd", 4).warmupEpochs);
    QCOMPARE(r.options.sparsity.targeted, 0.3);
    QCOMPARE(r.options.autopilot.byEpoch, 2);
    QCOMPARE(r.prunedNowPercent, 0.25);
    QVERIFY(!r.distillFromBaseline);
    const TrainSettings demo = demoSettings(TaskKind::Detect);
    QCOMPARE(demo.batch, trainRecipe(TaskKind::Detect, "sgd", demo.epochs).batch);
    QVERIFY(demo.sr > 0);
  }

  // One evaluation default per task, the one `eval --help` states.
  void evaluationBatchDefaults() {
    QCOMPARE(evalBatch(TaskKind::Classify), int64_t(256));
    QCOMPARE(evalBatch(TaskKind::Detect), int64_t(32));
    const test::CliRun help = test::runCli({"eval", "--help"});
    QVERIFY2(help.out.find("classify 256, detect 32") != std::string::npos, help.out.c_str());
  }
};

QTEST_GUILESS_MAIN(TestSessionLayer)
#include "test_session_layer.moc"
