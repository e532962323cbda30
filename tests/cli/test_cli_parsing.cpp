// prunelab-cli's command lines: per-command help with the true defaults, ultralytics-style
// key=value words, --device 0 as cuda:0, and usage errors with exit code 2 naming the option.

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/device_arg.h"
#include "cli/key_value_args.h"
#include "cli/number_text.h"
#include "cli/usage_error.h"
#include "data/detection/fashion_det.h"
#include "data/transforms.h"
#include "io/onnx_export.h"
#include "models/yolo/yolo_builder.h"
#include "pruning/pruner.h"
#include "session/calibration.h"
#include "session/task_factory.h"
#include "session/train_recipe.h"
#include "test_helpers.h"
#include "train/trainer.h"

using prunelab::test::errorOf;

namespace {

using Run = prunelab::test::CliRun;
Run cli(const QStringList& args) { return prunelab::test::runCli(args); }

// The help line that declares `option` ("  --round-to N   keep ... (default: 1)"; aliases
// as "--num-classes,--nc N"), or "" when there is none.
std::string helpLine(const std::string& help, const std::string& option) {
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    const std::string names = line.substr(first, line.find(' ', first) - first);  // "--num-classes,--nc"
    std::istringstream split(names);
    for (std::string name; std::getline(split, name, ',');)
      if (name == option) return line;
  }
  return {};
}

template <typename T>
std::string defaultText(T v) {
  std::ostringstream s;
  s << v;
  return "(default: " + s.str() + ")";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

class TestCliParsing : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  // --- key=value --------------------------------------------------------------------------
  void keyValueRewrite() {
    using prunelab::cli::rewriteKeyValueArgs;
    const prunelab::cli::OptionNames names = {
        {"model", true}, {"close-mosaic", true}, {"lr", true}, {"lr-mult", true}, {"json", false}, {"iou", true}};
    using V = std::vector<std::string>;
    QCOMPARE(rewriteKeyValueArgs({"model=yolov8n.yaml", "close_mosaic=0", "json=True"}, names),
             (V{"--model=yolov8n.yaml", "--close-mosaic=0", "--json"}));
    QCOMPARE(rewriteKeyValueArgs({"json=false", "iou=-1"}, names), (V{"--iou=-1"}));
    // A value that looks like key=value stays the value of its option.
    QCOMPARE(rewriteKeyValueArgs({"--lr-mult", "lr=10"}, names), (V{"--lr-mult", "lr=10"}));
    QCOMPARE(rewriteKeyValueArgs({"lr-mult=fc=10"}, names), (V{"--lr-mult=fc=10"}));
    // Not an option name, or after "--": left for the parser to accept or report.
    QCOMPARE(rewriteKeyValueArgs({"runs/lr=0.1", "bogus=1"}, names), (V{"runs/lr=0.1", "bogus=1"}));
    QCOMPARE(rewriteKeyValueArgs({"--", "model=x"}, names), (V{"--", "model=x"}));
    QCOMPARE(rewriteKeyValueArgs({"--model=a", "lr=0.1"}, names), (V{"--model=a", "--lr=0.1"}));
    try {
      rewriteKeyValueArgs({"json=maybe"}, names);
      QFAIL("json=maybe was accepted");
    } catch (const prunelab::cli::UsageError& e) {
      QVERIFY2(contains(e.what(), "--json"), e.what());
    }
  }

  // `info model=resnet20 num_classes=7 json=True` is `info --model resnet20 --num-classes 7 --json`.
  void keyValueMatchesOptions() {
    const Run a = cli({"info", "model=resnet20", "num_classes=7", "input=3x32x32", "json=True"});
    const Run b = cli({"info", "--model", "resnet20", "--num-classes", "7", "--input", "3x32x32", "--json"});
    QVERIFY2(a.code == 0, a.err.c_str());
    QVERIFY2(b.code == 0, b.err.c_str());
    QCOMPARE(a.out, b.out);
    QCOMPARE(nlohmann::json::parse(a.out).at("layers").back().at("output_shape").back().get<int>(), 7);
    const Run table = cli({"info", "model=resnet20"});
    const Run table2 = cli({"info", "--model", "resnet20"});
    QVERIFY2(table.code == 0, table.err.c_str());
    QCOMPARE(table.out, table2.out);
  }

  // --- help -------------------------------------------------------------------------------
  void topLevelHelp() {
    const Run r = cli({"--help"});
    QCOMPARE(r.code, 0);
    for (const char* c : {"info", "infer", "train", "eval", "prune", "export", "report", "make-dataset"})
      QVERIFY2(contains(r.out, std::string("\n  ") + c + " "), c);
    QVERIFY(contains(r.out, "key=value"));
    // README: the exit codes are in --help (and the man page: tests/package/check_deb.sh).
    for (const char* code : {"0 ok", "1 error", "2 usage", "3 internal error", "130 training stopped by a signal"})
      QVERIFY2(contains(r.out, code), code);
    const Run v = cli({"--version"});
    QCOMPARE(v.code, 0);
    QVERIFY2(v.out.rfind("prunelab-cli ", 0) == 0, v.out.c_str());
    QCOMPARE(cli({}).code, 2);
    const Run unknown = cli({"prnue"});
    QCOMPARE(unknown.code, 2);
    QVERIFY2(contains(unknown.err, "prnue"), unknown.err.c_str());
  }

  void pruneHelpShowsDefaults() {
    const Run r = cli({"prune", "-h"});
    QVERIFY2(r.code == 0, r.err.c_str());
    QVERIFY2(r.out.rfind("dependency-aware", 0) == 0, r.out.c_str());  // the command's summary first
    QVERIFY(contains(r.out, "usage: prunelab-cli prune --model"));
    const prunelab::PruneRequest req;
    const prunelab::CalibrationOptions co;
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"--round-to", defaultText(req.constraints.roundTo)},
        {"--min-channels", defaultText(req.constraints.minChannels)},
        {"--steps", defaultText(req.steps)},
        {"--criterion", "(default: " + prunelab::criterionName(req.importance.criterion) + ")"},
        {"--reduction", "(default: sum)"},
        {"--calib-batches", defaultText(co.batches)},
        {"--calib-batch", defaultText(co.batchSize)},
        {"--seed", defaultText(req.importance.seed)},
        {"--input", "(default: the model's)"},
        {"--out", "(required)"},
        {"--model", "(required)"}};
    for (const auto& [option, text] : expected) {
      const std::string line = helpLine(r.out, option);
      QVERIFY2(contains(line, text), (option + " -> '" + line + "', expected " + text).c_str());
    }
    QVERIFY(contains(r.out, "--fold-beta"));
    QCOMPARE(cli({"prune", "--help"}).out, r.out);
  }

  // Task-dependent defaults say so, and the help prints both recipes.
  void trainHelpShowsRecipes() {
    const Run r = cli({"train", "--help"});
    QVERIFY2(r.code == 0, r.err.c_str());
    QVERIFY2(contains(r.out, prunelab::recipeSummary()), r.out.c_str());
    QVERIFY(contains(r.out, "classify: batch") && contains(r.out, "detect:   batch"));
    for (const char* option : {"--batch", "--lr", "--momentum", "--weight-decay", "--warmup"}) {
      const std::string line = helpLine(r.out, option);
      QVERIFY2(contains(line, "(default: task recipe"), (std::string(option) + " -> " + line).c_str());
    }
    const prunelab::TrainerOptions o;
    const prunelab::TaskSettings t;
    QVERIFY2(contains(helpLine(r.out, "--epochs"), defaultText(o.epochs)), helpLine(r.out, "--epochs").c_str());
    QVERIFY(contains(helpLine(r.out, "--gamma-every"), defaultText(o.gammaEvery)));
    QVERIFY(contains(helpLine(r.out, "--optimizer"), "(default: " + o.optimizer + ")"));
    QVERIFY(contains(helpLine(r.out, "--schedule"), "(default: " + o.schedule.kind + ")"));
    QVERIFY(contains(helpLine(r.out, "--close-mosaic"), defaultText(t.closeMosaic)));
    QVERIFY(contains(helpLine(r.out, "--conf"), defaultText(t.confidence)));
    QVERIFY(contains(helpLine(r.out, "--mosaic"), defaultText(t.mosaic)));
    QVERIFY(contains(helpLine(r.out, "--device"), "(default: cpu)"));
    QVERIFY(contains(helpLine(r.out, "--resume"), "continue"));
    // Classification input: the defaults are core's ClassifyInputOptions.
    const prunelab::ClassifyInputOptions in;
    QVERIFY2(contains(helpLine(r.out, "--normalize"), "(default: " + in.normalize + ")"),
             helpLine(r.out, "--normalize").c_str());
    QVERIFY(contains(helpLine(r.out, "--normalize"), "imagenet = mean 0.485,0.456,0.406 std 0.229,0.224,0.225"));
    QVERIFY2(contains(helpLine(r.out, "--imgsz"), "classify: as stored"), helpLine(r.out, "--imgsz").c_str());
    QCOMPARE(cli({"train", "--model", "resnet20", "--out", m_dir.path() + "/x", "--normalize", "zscore"}).code, 2);
  }

  // README (Detection training, Validation): the recipe values and the validation defaults
  // (confidence 0.001, NMS IoU 0.7 or 0.6 for v5 heads, 300 detections per image).
  void recipeAndValidationDefaults() {
    using prunelab::TaskKind;
    const prunelab::TrainRecipe det = prunelab::trainRecipe(TaskKind::Detect, "sgd", 30);
    QCOMPARE(det.batch, int64_t(16));
    QCOMPARE(det.lr, 0.01);
    QCOMPARE(det.momentum, 0.937);
    QVERIFY(det.nesterov);
    QCOMPARE(det.warmupEpochs, 3.0);
    QCOMPARE(prunelab::trainRecipe(TaskKind::Detect, "sgd", 9).warmupEpochs, 1.0);  // 3 only from 10 epochs on
    QCOMPARE(prunelab::trainRecipe(TaskKind::Detect, "sgd", 2).warmupEpochs, 0.0);
    const prunelab::TrainRecipe cls = prunelab::trainRecipe(TaskKind::Classify, "sgd", 30);
    QCOMPARE(cls.batch, int64_t(128));
    QCOMPARE(cls.lr, 0.1);
    QCOMPARE(cls.momentum, 0.9);

    const prunelab::TaskSettings defaults;
    const prunelab::Graph v8 = prunelab::buildYoloModel("yolov8n", {});
    const prunelab::DetectionTaskOptions o8 = prunelab::detectionTaskOptions(defaults, v8, 16);
    QCOMPARE(o8.post.confidence, 0.001f);
    QCOMPARE(o8.post.iou, 0.7f);
    QCOMPARE(o8.post.maxDetections, 300);
    QCOMPARE(o8.valBatch, int64_t(32));
    const prunelab::Graph v5 = prunelab::buildYoloModel("yolov5n", {});
    QCOMPARE(prunelab::detectionTaskOptions(defaults, v5, 16).post.iou, 0.6f);
    prunelab::TaskSettings given;
    given.iou = 0.5;
    QCOMPARE(prunelab::detectionTaskOptions(given, v5, 64).post.iou, 0.5f);
    QCOMPARE(prunelab::detectionTaskOptions(given, v5, 64).valBatch, int64_t(64));  // max(train batch, 32)
  }

  void otherHelpsShowDefaults() {
    Run r = cli({"export", "-h"});
    QVERIFY2(r.code == 0, r.err.c_str());
    QVERIFY(contains(helpLine(r.out, "--opset"), defaultText(prunelab::OnnxExportOptions{}.opset)));
    r = cli({"make-dataset", "--help"});
    QVERIFY2(r.code == 0, r.err.c_str());
    const prunelab::FashionDetOptions f;
    QVERIFY(contains(helpLine(r.out, "--train"), defaultText(f.trainImages)));
    QVERIFY(contains(helpLine(r.out, "--size"), defaultText(f.size)));
    r = cli({"eval", "-h"});
    QVERIFY2(r.code == 0, r.err.c_str());
    QVERIFY(contains(helpLine(r.out, "--batch"), "(default: classify 256, detect 32)"));
    QVERIFY(contains(helpLine(r.out, "--data"), "(default: fashion-mnist)"));
    for (const char* c : {"info", "infer"}) {
      r = cli({c, "-h"});
      QVERIFY2(r.code == 0 && contains(r.out, "--model"), c);
    }
  }

  // --- device -----------------------------------------------------------------------------
  void deviceIndexIsCuda() {
    using prunelab::cli::deviceArgument;
    QCOMPARE(deviceArgument("0"), std::string("cuda:0"));
    QCOMPARE(deviceArgument("3"), std::string("cuda:3"));
    for (const char* same : {"cpu", "cuda", "cuda:1", "auto"}) QCOMPARE(deviceArgument(same), std::string(same));
    for (const char* several : {"0,1", "cuda:0,1"}) {
      const std::string err = errorOf([&] { deviceArgument(several); });
      QVERIFY2(contains(err, "multi-GPU") && contains(err, "--device"), err.c_str());
    }
  }

  // On this CPU-only LibTorch, `--device 0` is a clear error (exit 1) about cuda:0.
  void deviceIndexWithoutCuda() {
    const QString out = m_dir.filePath("y.npy");
    const Run r = cli({"infer", "--model", "resnet20", "--input", m_dir.filePath("absent.npy"), "--output", out,
                       "--device", "0"});
    if (r.code == 0) QSKIP("CUDA is available here");
    QCOMPARE(r.code, 1);
    QVERIFY2(contains(r.err, "cuda:0") && contains(r.err, "CUDA is not available"), r.err.c_str());
    const Run several = cli({"infer", "model=resnet20", "input=x.npy", "output=y.npy", "device=0,1"});
    QCOMPARE(several.code, 1);
    QVERIFY2(contains(several.err, "multi-GPU"), several.err.c_str());
  }

  // --- errors -----------------------------------------------------------------------------
  void usageErrorsNameTheOption() {
    Run r = cli({"info", "--model", "resnet20", "--bogus"});
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "--bogus") && contains(r.err, "usage error"), r.err.c_str());
    r = cli({"info", "--model"});  // a missing value
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "--model"), r.err.c_str());
    r = cli({"info"});  // a missing required option
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "--model"), r.err.c_str());
    r = cli({"prune", "--model", "resnet20", "--percent", "0.3", "--round-to", "eight", "--out", m_dir.filePath("p.plm")});
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "--round-to") && contains(r.err, "eight"), r.err.c_str());
    r = cli({"prune", "--model", "resnet20", "--target-macs", "lots", "--out", m_dir.filePath("p.plm")});
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "--target-macs"), r.err.c_str());
    r = cli({"train", "--model", "resnet20", "--epochs", "1.5", "--out", m_dir.filePath("run")});
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "--epochs"), r.err.c_str());
    r = cli({"info", "model=resnet20", "bogus=1"});  // key=value of no option: reported as it was written
    QCOMPARE(r.code, 2);
    QVERIFY2(contains(r.err, "bogus=1"), r.err.c_str());
    // A well-formed request that cannot be done stays exit code 1.
    r = cli({"prune", "--model", "resnet20", "--percent", "40", "--out", m_dir.filePath("p.plm")});
    QCOMPARE(r.code, 1);
    QVERIFY2(contains(r.err, "--percent"), r.err.c_str());
  }

  void countsAndFractions() {
    using namespace prunelab::cli;
    QCOMPARE(parseCount("--target-macs", "18M"), int64_t(18000000));
    QCOMPARE(parseCount("--target-macs", "2.5k"), int64_t(2500));
    QCOMPARE(parseCount("--target-params", "120000"), int64_t(120000));
    QCOMPARE(parseFraction("--percent", "40%"), 0.4);
    QCOMPARE(parseFraction("--percent", "0.4"), 0.4);
    QVERIFY_THROWS_EXCEPTION(UsageError, parseFraction("--percent", "forty"));
    QVERIFY_THROWS_EXCEPTION(UsageError, parseCount("--target-macs", "18Q"));
    const std::string ambiguous = errorOf([] { parseFraction("--percent", "40"); });
    QVERIFY2(contains(ambiguous, "--percent") && contains(ambiguous, "40%"), ambiguous.c_str());
  }

  // `--percent 40%` and `--percent 0.4` (and percent=40%) are the same cut.
  void percentTakesBothForms() {
    std::vector<nlohmann::json> results;
    for (const QStringList& form : {QStringList{"--percent", "40%"}, QStringList{"--percent", "0.4"},
                                    QStringList{"percent=40%"}}) {
      const Run r = cli(QStringList{"prune", "--model", "resnet20", "--criterion", "l1"} + form +
                        QStringList{"--out", m_dir.filePath("r20.plm"), "--json"});
      QVERIFY2(r.code == 0, r.err.c_str());
      results.push_back(nlohmann::json::parse(r.out));
    }
    const auto after = [&](size_t i) { return results[i].at("params_after").get<long long>(); };
    QCOMPARE(after(1), after(0));
    QCOMPARE(after(2), after(0));
    QVERIFY(results[0].at("params_after").get<long long>() < results[0].at("params_before").get<long long>());
  }
};

QTEST_GUILESS_MAIN(TestCliParsing)
#include "test_cli_parsing.moc"
