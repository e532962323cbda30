// Writing pruned models back as the trainers' own .pt files (interop/trainer_checkpoint.h,
// session/model_export.h), checked against independent readers:
//   - PyTorch itself (tests/python/check_pt_export.py): torch.load gives the module
//     classes, every width attribute agrees with its tensors, and the forward equals
//     PruneLab's (torchvision's ResNet; the ultralytics stand-in tree's C2f.forward,
//     forward_split and fuse());
//   - PruneLab's own reader: the written file reopens (built from its yaml, cut to the
//     file's widths) and runs like the model it was written from.
// yolov5's own code (val.py, detect.py, export.py, ComputeLoss) runs in the separate ctest
// pt_export_yolov5_stack, which skips visibly without a yolov5 checkout.

#include <ATen/ATen.h>

#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "interop/trainer_checkpoint.h"
#include "io/py_tree.h"
#include "io/torch_pickle.h"
#include "io/torch_save.h"
#include "models/model_loader.h"
#include "models/zoo.h"
#include "pruning/dependency_graph.h"
#include "pruning/surgery.h"
#include "session/model_export.h"
#include "test_helpers.h"

using namespace prunelab;
using prunelab::test::errorOf;
using prunelab::test::runCli;

namespace {

const std::string kPtDir = PRUNELAB_PT_DIR;  // ultralytics stand-in checkpoints (fixture)
const std::string kPtData = std::string(PRUNELAB_SOURCE_DIR) + "/tests/data/pt";  // committed yolov5 files

struct PyRun {
  int code;
  std::string out;
};

PyRun python(const QStringList& args) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(PRUNELAB_PYTHON, args);
  if (!p.waitForFinished(600000)) return {-1, "timeout"};
  return {p.exitCode(), p.readAll().toStdString()};
}

QString checker() { return QString(PRUNELAB_SOURCE_DIR) + "/tests/python/check_pt_export.py"; }

double relDiff(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  return (x - y).abs().max().item<double>() / std::max(1.0, y.abs().max().item<double>());
}

Graph open(const std::string& path) {
  ModelRequest r;
  r.model = path;
  return loadModel(r);
}

}  // namespace

class TestTrainerExport : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const std::string& f) const { return m_dir.path().toStdString() + "/" + f; }
  QString qpath(const std::string& f) const { return QString::fromStdString(path(f)); }

  // prunelab-cli prune MODEL --criterion C --percent P --out NAME.plm; returns the .plm.
  std::string prune(const std::string& model, const char* criterion, const char* percent, const std::string& name) {
    const auto r = runCli({"prune", "--model", QString::fromStdString(model), "--criterion", criterion, "--percent",
                           percent, "--out", qpath(name + ".plm")});
    if (r.code != 0) qWarning("prune failed: %s", r.err.c_str());
    return path(name + ".plm");
  }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(m_dir.isValid()); }

  // The writer's pickle read back by PruneLab's reader: every kind and origin survives,
  // shared values stay shared.
  void pickleRoundTrip() {
    PyRef root = pyOrderedDict();
    PyRef shared = pyDict();
    pyDictSet(shared, "lr0", pyFloat(0.01));
    pyDictSet(root, "a", shared);
    pyDictSet(root, "b", shared);
    PyRef set = pyList({pyInt(3), pyStr("x")});
    set->origin = "builtins.set";
    pyDictSet(root, "set", set);
    PyRef size = pyIntTuple({1, 2, 70000, -5, int64_t{1} << 40});
    size->origin = "torch.Size";
    pyDictSet(root, "size", size);
    pyDictSet(root, "half", pyTensor(at::arange(6, at::kFloat).reshape({2, 3}).to(at::kHalf), false));
    pyDictSet(root, "param", pyTensor(at::ones({4}), true));
    PyRef m = pyModule("torch.nn.modules.activation.ReLU");
    setModuleAttr(m, "inplace", pyBool(true));
    pyDictSet(root, "module", m);
    pyDictSet(root, "none", pyNone());
    writeTorchSave(path("tree.pt"), root);

    const PyRef back = readTorchPickle(path("tree.pt"));
    QCOMPARE(back->origin, std::string("collections.OrderedDict"));
    QVERIFY(pyDictGet(back, "a").get() == pyDictGet(back, "b").get());
    QCOMPARE(pyDictGet(pyDictGet(back, "a"), "lr0")->real, 0.01);
    QCOMPARE(pyDictGet(back, "set")->origin, std::string("builtins.set"));
    QCOMPARE(pyDictGet(back, "set")->items.size(), size_t{2});
    const PyRef s = pyDictGet(back, "size");
    QCOMPARE(s->origin, std::string("torch.Size"));
    QCOMPARE(s->items[2]->integer, int64_t{70000});
    QCOMPARE(s->items[3]->integer, int64_t{-5});
    QCOMPARE(s->items[4]->integer, int64_t{1} << 40);
    QCOMPARE(pyDictGet(back, "half")->tensor.scalar_type(), at::kHalf);
    QVERIFY(pyDictGet(back, "half")->tensor.to(at::kFloat).equal(at::arange(6, at::kFloat).reshape({2, 3})));
    QCOMPARE(pyDictGet(back, "param")->origin, std::string("torch.nn.parameter.Parameter"));
    QVERIFY(pyDictGet(back, "param")->requiresGrad);
    QCOMPARE(pyClassName(pyDictGet(back, "module")), std::string("torch.nn.modules.activation.ReLU"));
    QVERIFY(pyDictGet(back, "module")->newObj);
    QVERIFY(pyDictGet(pyObjectDict(pyDictGet(back, "module")), "inplace")->boolean);

    // ... and by PyTorch itself.
    const PyRun py = python({"-c",
                             "import sys, torch\n"
                             "d = torch.load(sys.argv[1])\n"
                             "assert type(d).__name__ == 'OrderedDict' and d['a'] is d['b'], d\n"
                             "assert d['set'] == {3, 'x'} and d['size'] == torch.Size([1, 2, 70000, -5, 1 << 40])\n"
                             "assert d['half'].dtype == torch.float16 and d['half'].float().flatten().tolist() == [0, 1, 2, 3, 4, 5]\n"
                             "assert isinstance(d['param'], torch.nn.Parameter) and d['param'].requires_grad\n"
                             "assert isinstance(d['module'], torch.nn.ReLU) and d['module'].inplace and d['none'] is None\n"
                             "print('ok')\n",
                             qpath("tree.pt")});
    QVERIFY2(py.code == 0 && py.out.find("ok") != std::string::npos, py.out.c_str());
  }

  // Zoo ResNets as torchvision.models.resnet.ResNet objects, pruned 50 % (torchvision's
  // resnet18, and the CIFAR resnet20 that a torchvision ResNet expresses exactly).
  void torchFormat_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("input");
    QTest::newRow("resnet18") << "resnet18" << "3x64x64";
    QTest::newRow("resnet20") << "resnet20" << "3x32x32";
  }
  void torchFormat() {
    QFETCH(QString, model);
    QFETCH(QString, input);
    const std::string name = model.toStdString();
    const std::string plm = prune(name, "l2", "0.5", name + "_p");
    const auto ex = runCli({"export", "--model", QString::fromStdString(plm), "--format", "torch", "--out",
                            qpath(name + "_p.pt"), "--input", input, "--json"});
    QVERIFY2(ex.code == 0, ex.err.c_str());
    const auto j = nlohmann::json::parse(ex.out);
    QCOMPARE(j.at("format").get<std::string>(), std::string("torch"));
    QVERIFY(j.at("max_rel_diff").get<double>() < 1e-6);

    Graph g = open(plm);
    Shape in{2};
    for (int64_t d : parseShape(input.toStdString())) in.push_back(d);
    const at::Tensor x = at::randn(in);
    writeNpy(path(name + "_x.npy"), x);
    writeNpy(path(name + "_y.npy"), runInference(g, {x}).at(0));
    const PyRun py = python({checker(), "torch", "--weights", qpath(name + "_p.pt"), "--input", qpath(name + "_x.npy"),
                             "--expected", qpath(name + "_y.npy")});
    QVERIFY2(py.code == 0, py.out.c_str());
  }

  // ultralytics checkpoints (the stand-in tree's YOLOv8n and YOLO11n) pruned 30 % and
  // written back: PyTorch loads them with ultralytics' classes, every width attribute
  // (C2f.c included) agrees, outputs equal PruneLab's, forward_split and fuse() run.
  void ultralyticsFormat_data() {
    QTest::addColumn<QString>("tag");
    QTest::newRow("yolov8n") << "yolov8n_nc3";
    QTest::newRow("yolo11n") << "yolo11n_nc3";
  }
  void ultralyticsFormat() {
    QFETCH(QString, tag);
    const std::string t = tag.toStdString();
    const std::string plm = prune(kPtDir + "/" + t + ".pt", "l1", "0.3", t + "_p");
    const Graph pruned = open(plm);
    // The planner kept every C2f/C3k2/C2PSA split in equal halves (the ultralytics code chunks).
    int splits = 0;
    for (const Node& n : pruned.nodes())
      if (n.op == OpKind::Split && n.scope.size() > 6 && n.scope.rfind(".chunk") == n.scope.size() - 6) {
        const auto sizes = n.attrs.getInts("split");
        QCOMPARE(sizes.at(0), sizes.at(1));
        ++splits;
      }
    QVERIFY(splits >= 4);
    QVERIFY(pruned.parameterCount() < open(kPtDir + "/" + t + ".pt").parameterCount() * 0.9);

    const auto ex = runCli({"export", "--model", QString::fromStdString(plm), "--format", "ultralytics", "--out",
                            qpath(t + "_p.pt"), "--json"});
    QVERIFY2(ex.code == 0, ex.err.c_str());
    QVERIFY(nlohmann::json::parse(ex.out).at("max_rel_diff").get<double>() < 1e-5);
    // PruneLab reopens the file (its yaml built, cut to the file's widths).
    Graph back = open(path(t + "_p.pt"));
    QCOMPARE(back.parameterCount(), pruned.parameterCount());

    const at::Tensor x = at::randn({1, 3, 64, 64});
    writeNpy(path(t + "_x.npy"), x);
    const auto out = runInference(back, {x});
    for (int i = 0; i < 3; ++i) writeNpy(path(t + "_y" + std::to_string(i) + ".npy"), out.at(i));
    const PyRun py = python({checker(), "ultralytics", "--weights", qpath(t + "_p.pt"), "--input", qpath(t + "_x.npy"),
                             "--expected-prefix", qpath(t + "_y")});
    QVERIFY2(py.code == 0, py.out.c_str());
    QVERIFY2(py.out.find("forward_split") != std::string::npos && py.out.find("WARN forward_split") == std::string::npos,
             py.out.c_str());
  }

  // yolov5's own checkpoint (written by yolov5's code, committed) pruned 50 % by l2 and
  // written back; reopened by PruneLab it runs like the pruned model (yolov5's own code
  // runs it in the ctest pt_export_yolov5_stack).
  void yolov5Format() {
    const std::string plm = prune(kPtData + "/yolov5s_nc3.pt", "l2", "0.5", "y5s_p");
    const auto ex = runCli({"export", "--model", QString::fromStdString(plm), "--out", qpath("y5s_p.pt"), "--json"});
    QVERIFY2(ex.code == 0, ex.err.c_str());
    const auto j = nlohmann::json::parse(ex.out);
    QCOMPARE(j.at("format").get<std::string>(), std::string("yolov5"));  // .pt: the family it came from
    Graph a = open(plm), b = open(path("y5s_p.pt"));
    QCOMPARE(b.parameterCount(), a.parameterCount());
    const at::Tensor x = at::randn({1, 3, 64, 64});
    const auto ya = runInference(a, {x});
    const auto yb = runInference(b, {x});
    for (int i = 0; i < 3; ++i) QVERIFY2(relDiff(yb.at(i), ya.at(i)) < 1e-5, qPrintable(QString::number(relDiff(yb[i], ya[i]))));
    const PtReadBack r = readTrainerCheckpoint(path("y5s_p.pt"));
    QCOMPARE(r.modelClass, std::string("models.yolo.DetectionModel"));
    QVERIFY(r.problems.empty());
  }

  // Mid-training checkpoints: ultralytics' last.pt (model None, the EMA with its loss
  // object and an args namespace, optimizer state) and yolov5's (EMA and optimizer set).
  void lastCheckpointsOpen_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("prefix");
    QTest::newRow("ultralytics last.pt") << QString::fromStdString(kPtDir + "/yolov8n_last.pt")
                                         << QString::fromStdString(kPtDir + "/yolov8n_last");
    QTest::newRow("yolov5 last.pt") << QString::fromStdString(kPtData + "/yolov5n_last.pt")
                                    << QString::fromStdString(kPtData + "/yolov5n_last");
  }
  void lastCheckpointsOpen() {
    QFETCH(QString, file);
    QFETCH(QString, prefix);
    const std::string f = file.toStdString(), p = prefix.toStdString();
    Graph g = open(f);
    const at::Tensor x = readNpy(p + "_input.npy");
    const auto out = runInference(g, {x});
    for (int i = 0; i < 3; ++i) {
      const at::Tensor expected = readNpy(p + "_output" + std::to_string(i) + ".npy");
      QVERIFY2(relDiff(out.at(i), expected) < 1e-4, qPrintable(QString::number(relDiff(out.at(i), expected))));
    }
    const auto info = runCli({"info", "--model", file});
    QVERIFY2(info.code == 0, info.err.c_str());
    const auto pr = runCli({"prune", "--model", file, "--percent", "0.2", "--out", qpath("last_p.plm")});
    QVERIFY2(pr.code == 0, pr.err.c_str());
  }

  // A plan whose C2f halves differ (made here with the halves untied) cannot be written in
  // the ultralytics format: refused, naming the layer.
  void unequalHalvesRefused() {
    Graph g = open(kPtDir + "/yolov8n_nc3.pt");
    inferShapes(g, defaultInputShape(g));
    DependencyGraph::Options o;
    o.splitHalves = DependencyGraph::Options::SplitHalves::Free;
    const DependencyGraph deps(g, o);
    PrunePlan plan;
    plan.removed.resize(deps.groups().size());
    const Node* chunk = g.findNode("model.2.chunk");
    QVERIFY(chunk);
    const int half = deps.locate(chunk->outputs[0], 0).first;  // the first half's group only
    QVERIFY(half >= 0);
    plan.removed[half] = {0, 1};
    const Graph cut = applySurgery(deps, plan).graph;
    const std::string err = errorOf([&] {
      ExportRequest r;
      r.format = "ultralytics";
      r.out = path("unequal.pt");
      exportModel(cut, r);
    });
    QVERIFY2(err.find("model.2 (C2f)") != std::string::npos && err.find("equal halves") != std::string::npos,
             err.c_str());
    QVERIFY(!std::filesystem::exists(path("unequal.pt")));
    // With the default analysis the halves are one group: the same cut removes both.
    const DependencyGraph tied(g);
    QCOMPARE(tied.locate(chunk->outputs[0], 0).first, tied.locate(chunk->outputs[1], 0).first);
  }

  // prune --yaml-widths: the checkpoint's yaml states every pruned width, so the stock
  // trainers' rebuild from it (yolov5's Model(ckpt['model'].yaml), ultralytics'
  // DetectionModel(model.yaml) + load) takes every tensor. Checked by the export's own
  // rebuild (yaml_complete), by the ultralytics stand-in's parse_model (the rebuilt model
  // with the transferred tensors computes what the checkpoint's does), and against the
  // same cut without the option, whose yaml cannot state it (so the check can fail).
  // yolov5's own Model runs on it in the ctest pt_export_yolov5_stack.
  void yamlWidths_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("criterion");
    QTest::addColumn<QStringList>("goal");
    QTest::addColumn<QString>("framework");
    const QString v5 = QString::fromStdString(kPtData + "/yolov5s_nc3.pt");
    QTest::newRow("yolov5s percent") << v5 << "l2" << QStringList{"--percent", "0.5"} << "yolov5";
    QTest::newRow("yolov8n percent") << QString::fromStdString(kPtDir + "/yolov8n_nc3.pt") << "l1"
                                     << QStringList{"--percent", "0.3"} << "ultralytics";
    QTest::newRow("yolov8n macs") << QString::fromStdString(kPtDir + "/yolov8n_nc3.pt") << "l2"
                                  << QStringList{"--target-macs", "60%"} << "ultralytics";
    QTest::newRow("yolo11n percent") << QString::fromStdString(kPtDir + "/yolo11n_nc3.pt") << "l1"
                                     << QStringList{"--percent", "0.3"} << "ultralytics";
  }
  void yamlWidths() {
    QFETCH(QString, file);
    QFETCH(QString, criterion);
    QFETCH(QStringList, goal);
    QFETCH(QString, framework);
    const std::string tag = QFileInfo(file).baseName().toStdString() + "_" + goal.at(0).mid(2).toStdString();
    int64_t macsGoal = -1;
    if (goal.at(1).endsWith('%')) {  // a share of the unpruned model's MACs
      Graph g = open(file.toStdString());
      inferShapes(g, defaultInputShape(g));
      macsGoal = static_cast<int64_t>(double(computeCost(g).macs) * goal.at(1).chopped(1).toDouble() / 100.0);
      goal[1] = QString::number(macsGoal);
    }
    const auto cut = [&](bool fit) {
      QStringList args{"prune", "--model", file, "--criterion", criterion, "--json", "--out",
                       qpath(tag + (fit ? "_fit.plm" : "_free.plm"))};
      args += goal;
      if (fit) args << "--yaml-widths";
      const auto r = runCli(args);
      if (r.code != 0) qWarning("prune failed: %s", r.err.c_str());
      return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
    };
    const auto written = [&](bool fit) {
      const auto r = runCli({"export", "--model", qpath(tag + (fit ? "_fit.plm" : "_free.plm")), "--format", framework,
                             "--out", qpath(tag + (fit ? "_fit.pt" : "_free.pt")), "--json"});
      if (r.code != 0) qWarning("export failed: %s", r.err.c_str());
      return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
    };
    const nlohmann::json fitted = cut(true), free = cut(false);
    QVERIFY(!fitted.is_null() && !free.is_null());
    // The fit keeps the cut a cut (most of what the free plan removes)...
    const double params = fitted.at("params_before").get<double>();
    QVERIFY2(fitted.at("params_after").get<double>() < 0.9 * params, fitted.dump().c_str());
    if (macsGoal > 0)  // ...and a cost target is met by the fitted plan itself
      QVERIFY2(fitted.at("macs_after").get<int64_t>() <= macsGoal, fitted.dump().c_str());
    // Every module output a multiple of 8, as make_divisible(c2, 8) builds it: Conv layers
    // (model.N.conv) and C3 (cv3) / C2f, C3k2, SPPF (cv2) outputs.
    const QRegularExpression output(framework == "yolov5" ? R"(^model\.\d+\.(conv|cv3\.conv)$)"
                                                          : R"(^model\.\d+\.(conv|cv2\.conv)$)");
    int outputs = 0;
    for (const auto& l : fitted.at("layers"))
      if (output.match(QString::fromStdString(l.at("name").get<std::string>())).hasMatch()) {
        QVERIFY2(l.at("after").get<int64_t>() % 8 == 0, l.dump().c_str());
        ++outputs;
      }
    QVERIFY(outputs >= 8);
    const nlohmann::json a = written(true), b = written(false);
    QVERIFY(!a.is_null() && !b.is_null());
    QVERIFY2(a.at("yaml_complete").get<bool>(), a.dump().c_str());
    QVERIFY2(a.at("yaml").get<std::string>().find("rewritten to the pruned widths") != std::string::npos, a.dump().c_str());
    QVERIFY2(!b.at("yaml_complete").get<bool>(), b.dump().c_str());
    QVERIFY(a.at("max_rel_diff").get<double>() < 1e-5);
    // PruneLab reopens the file from its own (rewritten) yaml without cutting anything.
    QCOMPARE(open(path(tag + "_fit.pt")).parameterCount(), open(path(tag + "_fit.plm")).parameterCount());
    if (framework != "ultralytics") return;
    const at::Tensor x = at::randn({1, 3, 64, 64});
    writeNpy(path(tag + "_x.npy"), x);
    for (bool fit : {true, false}) {
      const std::string pt = path(tag + (fit ? "_fit.pt" : "_free.pt"));
      Graph model = open(pt);
      const auto out = runInference(model, {x});
      for (int i = 0; i < 3; ++i) writeNpy(path(tag + "_y" + std::to_string(i) + ".npy"), out.at(i));
      QStringList args{checker(), "ultralytics", "--weights", QString::fromStdString(pt), "--input", qpath(tag + "_x.npy"),
                       "--expected-prefix", qpath(tag + "_y")};
      if (fit) args << "--require-yaml";
      const PyRun py = python(args);
      QVERIFY2(py.code == 0, py.out.c_str());
      const bool whole = py.out.find("PASS yaml_rebuild") != std::string::npos;
      QVERIFY2(whole == fit, py.out.c_str());
    }
  }

  // A model without a torch.nn layout PruneLab knows is refused with the alternatives named.
  void torchFormatRefusedForOtherModels() {
    const auto ex = runCli({"export", "--model", "vgg11_bn", "--format", "torch", "--out", qpath("vgg.pt")});
    QCOMPARE(ex.code, 1);
    QVERIFY2(ex.err.find("TorchScript") != std::string::npos, ex.err.c_str());
    const auto y5 = runCli({"export", "--model", "resnet20", "--format", "yolov5", "--out", qpath("r.pt")});
    QCOMPARE(y5.code, 1);
    QVERIFY2(y5.err.find("opened from a yolov5 .pt") != std::string::npos, y5.err.c_str());
  }
};

QTEST_GUILESS_MAIN(TestTrainerExport)
#include "test_trainer_export.moc"
