// Reading real torch.save(model.state_dict()) files (made by tests/python/make_reference.py).

#include <ATen/ATen.h>

#include <QtTest/QtTest>
#include <fstream>

#include "io/state_dict.h"
#include "models/model_loader.h"
#include "models/zoo.h"
#include "test_helpers.h"
#include "util/error.h"

using namespace prunelab;
using prunelab::test::refPath;

using prunelab::test::errorOf;

class TestStateDict : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void readsAPlainStateDict() {
    const StateDict sd = readTorchStateDict(refPath("resnet18.pt"));
    ZooOptions o;
    o.numClasses = 10;
    Graph g = buildZooModel("resnet18", o);
    const auto keys = g.stateDict();
    QCOMPARE(sd.size(), keys.size());
    for (size_t i = 0; i < sd.size(); ++i) QCOMPARE(sd[i].first, keys[i].first);  // same order as PyTorch
    QCOMPARE(sd[0].second.sizes().vec(), (std::vector<int64_t>{64, 3, 7, 7}));
    const LoadReport r = loadStateDict(g, sd, "resnet18.pt");
    QCOMPARE(r.loaded, static_cast<int>(keys.size()));
    QVERIFY(at::equal(g.findNode("layer3.1.bn2")->tensor("running_var"),
                      std::find_if(sd.begin(), sd.end(), [](auto& p) { return p.first == "layer3.1.bn2.running_var"; })
                          ->second));
    QCOMPARE(g.findNode("bn1")->tensor("num_batches_tracked").item<int64_t>(), int64_t(7));
  }

  void acceptsCommonWrappers() {
    for (const char* f : {"wrapped.pt", "dataparallel.pt", "half.pt"}) {
      Graph g = buildZooModel("resnet20", {});
      loadWeights(g, refPath(f));
      Graph ref = buildZooModel("resnet20", {});
      loadWeights(ref, refPath("resnet20.pt"));
      const double tol = std::string(f) == "half.pt" ? 1e-2 : 0.0;
      const auto a = g.stateDict(), b = ref.stateDict();
      QCOMPARE(a.size(), b.size());
      QVERIFY(!a.empty());
      for (size_t i = 0; i < a.size(); ++i)
        QVERIFY2(prunelab::test::maxAbsDiff(a[i].second, b[i].second) <= tol, (std::string(f) + " " + a[i].first).c_str());
    }
  }

  // PruneLab reads zips itself (io/zip_reader.h): a torch.save archive re-packed with
  // deflate (as `zip -r` or Python's zipfile would) loads like the stored original, and
  // PyTorch itself loads the re-packed file too, so it is a valid archive, not a lenient read.
  void readsADeflatedArchive() {
    const QString repacked = QDir(PRUNELAB_REF_DIR).filePath("resnet20_deflated.pt");
    QProcess py;
    py.start(PRUNELAB_PYTHON, {"-c",
                               "import sys, zipfile, torch\n"
                               "src, dst = sys.argv[1], sys.argv[2]\n"
                               "with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as b:\n"
                               "    for i in a.infolist(): b.writestr(i.filename, a.read(i.filename))\n"
                               "with zipfile.ZipFile(dst) as b:\n"
                               "    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in b.infolist())\n"
                               "sd = torch.load(dst)\n"
                               "print(len(sd))\n",
                               QString::fromStdString(refPath("resnet20.pt")), repacked});
    QVERIFY(py.waitForFinished(120000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const StateDict a = readTorchStateDict(refPath("resnet20.pt")), b = readTorchStateDict(repacked.toStdString());
    QCOMPARE(QString(py.readAllStandardOutput()).trimmed().toInt(), static_cast<int>(a.size()));
    QCOMPARE(b.size(), a.size());
    QVERIFY(!a.empty());
    for (size_t i = 0; i < a.size(); ++i) {
      QCOMPARE(b[i].first, a[i].first);
      QVERIFY2(at::equal(b[i].second, a[i].second), a[i].first.c_str());
    }
  }

  void mismatchesAreListedInOneError() {
    Graph g = buildZooModel("resnet20", {});
    const std::string e = errorOf([&] { loadWeights(g, refPath("mismatched.pt")); });
    QVERIFY2(e.find("mismatched.pt") != std::string::npos, e.c_str());
    QVERIFY2(e.find("missing keys (1)") != std::string::npos && e.find("layer1.0.conv1.weight") != std::string::npos,
             e.c_str());
    QVERIFY2(e.find("unexpected keys (1)") != std::string::npos && e.find("extra.weight") != std::string::npos,
             e.c_str());
    QVERIFY2(e.find("fc.weight (file 5x64, model 10x64)") != std::string::npos, e.c_str());
    // Nothing was modified by the failed load.
    Graph fresh = buildZooModel("resnet20", {});
    QVERIFY(at::equal(g.findNode("layer2.0.conv1")->tensor("weight"), fresh.findNode("layer2.0.conv1")->tensor("weight")));
  }

  void badFilesAreNamed() {
    const std::string legacy = errorOf([] { readTorchStateDict(refPath("legacy.pt")); });
    QVERIFY2(legacy.find("legacy.pt") != std::string::npos && legacy.find("torch 1.6") != std::string::npos,
             legacy.c_str());
    QVERIFY(errorOf([] { readTorchStateDict(refPath("nonexistent.pt")); }).find("cannot open") != std::string::npos);
    const std::string npy = errorOf([] { readTorchStateDict(refPath("resnet18_input.npy")); });
    QVERIFY2(npy.find("resnet18_input.npy") != std::string::npos, npy.c_str());
    // A truncated zip.
    std::ifstream in(refPath("resnet20.pt"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const std::string cut = refPath("cut.pt");
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
    QVERIFY(errorOf([&] { readTorchStateDict(cut); }).find("cut.pt") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestStateDict)
#include "test_state_dict.moc"
