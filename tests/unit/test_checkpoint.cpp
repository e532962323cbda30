// Native checkpoint: bit-exact round trip, atomic replacement, clear errors; .npy I/O.

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "exec/inference.h"
#include "io/checkpoint.h"
#include "io/graph_json.h"
#include "models/zoo.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/npy.h"

#include <nlohmann/json.hpp>

using namespace prunelab;

class TestCheckpoint : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const char* name) { return (m_dir.path() + "/" + name).toStdString(); }

 private Q_SLOTS:
  void roundTripIsBitExact() {
    Checkpoint ck;
    ck.graph = buildZooModel("mobilenet_v2", {});
    for (auto& n : ck.graph.nodes())  // non-trivial buffers too
      for (auto& t : n.tensors)
        if (t.isBuffer && t.tensor.is_floating_point()) t.tensor.uniform_(0.5, 2.0);
    ck.info["epoch"] = "3";
    ck.extraTensors["optimizer.momentum.0"] = at::randn({7, 3});
    saveCheckpoint(path("m.plm"), ck);

    const Checkpoint back = loadCheckpoint(path("m.plm"));
    QCOMPARE(graphToJson(back.graph).dump(), graphToJson(ck.graph).dump());  // structure, names, metadata
    const auto a = ck.graph.stateDict(), b = back.graph.stateDict();
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      QCOMPARE(a[i].first, b[i].first);
      QCOMPARE(a[i].second.scalar_type(), b[i].second.scalar_type());
      QVERIFY2(at::equal(a[i].second, b[i].second), a[i].first.c_str());
    }
    QCOMPARE(back.info.at("epoch"), std::string("3"));
    QVERIFY(at::equal(back.extraTensors.at("optimizer.momentum.0"), ck.extraTensors.at("optimizer.momentum.0")));

    // The reloaded graph computes the same function.
    Graph g1 = ck.graph.clone(), g2 = back.graph.clone();
    at::Tensor x = at::randn({1, 3, 64, 64});
    QVERIFY(at::equal(runInference(g1, {x})[0], runInference(g2, {x})[0]));
  }

  void failedWriteKeepsTheOldFile() {
    Checkpoint ck;
    ck.graph = buildZooModel("resnet20", {});
    saveCheckpoint(path("keep.plm"), ck);
    const auto before = std::filesystem::file_size(path("keep.plm"));
    QVERIFY_THROWS_EXCEPTION(Error, replaceFileAtomically(path("keep.plm"), [](const std::string& tmp) {
                               std::ofstream(tmp) << "half-written";
                               throw Error("simulated crash");
                             }));
    QCOMPARE(std::filesystem::file_size(path("keep.plm")), before);
    QVERIFY(loadCheckpoint(path("keep.plm")).graph.nodes().size() == ck.graph.nodes().size());
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(m_dir.path().toStdString()))
      files += e.path().filename().string().rfind("keep.plm", 0) == 0;
    QCOMPARE(files, 1);  // no temp file left behind
  }

  void corruptFilesGiveClearErrors() {
    Checkpoint ck;
    ck.graph = buildZooModel("resnet20", {});
    saveCheckpoint(path("full.plm"), ck);
    const auto size = std::filesystem::file_size(path("full.plm"));
    std::filesystem::copy_file(path("full.plm"), path("cut.plm"));
    std::filesystem::resize_file(path("cut.plm"), size / 2);
    std::ofstream(path("text.plm")) << "this is not a checkpoint";
    for (const char* f : {"cut.plm", "text.plm", "missing.plm"}) {
      try {
        loadCheckpoint(path(f));
        QFAIL(f);
      } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find(f) != std::string::npos, e.what());
      }
    }
  }

  void npyRoundTrip() {
    for (auto type : {at::kFloat, at::kDouble, at::kLong}) {
      at::Tensor t = (at::randn({2, 3, 4}) * 100).to(type);
      writeNpy(path("t.npy"), t);
      QVERIFY(at::equal(readNpy(path("t.npy")), t));
    }
    at::Tensor v = at::arange(5).to(at::kFloat);
    writeNpy(path("v.npy"), v);
    QVERIFY(at::equal(readNpy(path("v.npy")), v));
    std::ofstream(path("bad.npy")) << "nope";
    QVERIFY_THROWS_EXCEPTION(Error, readNpy(path("bad.npy")));
  }
};

QTEST_APPLESS_MAIN(TestCheckpoint)
#include "test_checkpoint.moc"
