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
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../fuzz/fuzz_targets.h"
#include "../support/synthetic_models.h"
#include "analysis/shape_inference.h"
#include "data/in_memory_dataset.h"
#include "io/checkpoint.h"
#include "io/json_read.h"
#include "io/pickle_reader.h"
#include "io/torch_pickle.h"
#include "io/state_dict.h"
#include "io/torch_zip.h"
#include "pruning/sensitivity.h"
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
      {"fuzz_npy", fuzz::fuzz_npy},       {"fuzz_ratios", fuzz::fuzz_ratios},
      {"fuzz_sensitivity", fuzz::fuzz_sensitivity}};
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

  // --- the fixes, one by one (each crashed, leaked or threw a foreign exception before) ---

  // TUPLE3 taking items from below the innermost MARK left the mark past the stack end;
  // the TUPLE after it then built a vector from an inverted range (std::length_error).
  void pickleTupleBelowMark() {
    const std::string p = std::string("\x80\x02K\x01K\x02(K\x03\x87t.", 12);
    QVERIFY(test::errorOf([&] { unpickle(p, {}, "m.pkl"); }).find("m.pkl: corrupt or unsupported pickle: stack underflow") == 0);
  }
  // A list appended to itself: shared_ptr cycles are never freed, so it is refused.
  void pickleCycleRefused() {
    const std::string p = std::string("\x80\x02]q\x00h\x00", 7) + "a.";  // the memo key is 0, not 0x0a
    QCOMPARE(QString::fromStdString(test::errorOf([&] { unpickle(p, {}, "c.pkl"); })),
             QString("c.pkl: corrupt or unsupported pickle: a value refers back to itself (reference cycle), which "
                     "PruneLab does not read"));
  }
  // A million nested lists (2 MB): parsed and freed without recursing a million deep.
  void pickleDeepNestingFreed() {
    const size_t depth = 1000000;
    const std::string p = "\x80\x02" + std::string(depth, '(') + "]" + std::string(depth, 'l') + ".";
    PyRef root = unpickle(p, {}, "deep.pkl");
    size_t levels = 0;
    for (PyRef v = root; v && v->kind == PyValue::Kind::List && !v->items.empty(); v = v->items[0]) ++levels;
    QCOMPARE(levels, depth);
    root.reset();  // the old recursive destructor overflowed the stack here
  }
  // A storage whose numel lies: refused from the record's size, nothing allocated.
  void pickleStorageNumelLie() {
    const std::string pkl = readAll(kCorpus / "fuzz_torch_pickle" / "state_dict.pkl");
    const std::string err = test::errorOf([&] {
      unpickleTorch(pkl, [](const std::string&) { return std::string(8, '\0'); }, "s.pt");
    });
    QVERIFY2(err.find("s.pt: storage data/") == 0 && err.find("is truncated (8 of") != std::string::npos, err.c_str());
  }
  // .npy: a shape far beyond the data, and one beyond 64 bits.
  void npyShapeChecksBeforeAllocating() {
    std::istringstream lie(readAll(kCorpus / "fuzz_npy" / "big_shape_lie.npy"));
    const std::string truncated = test::errorOf([&] { readNpy(lie, "a.npy"); });
    QVERIFY2(truncated.find("a.npy: header shape: shape [99999999999] is too large") == 0, truncated.c_str());
    const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n";
    std::istringstream huge(std::string("\x93NUMPY\x01\x00", 8) + char(header.size()) + '\0' + header);
    const std::string tooLarge = test::errorOf([&] { readNpy(huge, "b.npy"); });
    QVERIFY2(tooLarge.find("b.npy: header shape entry '99999999999999999999' is not a dimension") == 0, tooLarge.c_str());
  }
  // IDX: counts whose product wrapped around 64 bits passed the size check.
  void idxSizesChecked() {
    const fs::path dir = fs::temp_directory_path() / ("prunelab_idx_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto be = [](uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; };
    std::ofstream(dir / "train-images-idx3-ubyte.gz", std::ios::binary) << be(0x803) + be(1u << 20) + be(1u << 22) + be(1u << 22);
    std::ofstream(dir / "train-labels-idx1-ubyte.gz", std::ios::binary) << be(0x801) + be(1u << 20);
    const std::string err = test::errorOf([&] { loadFashionMnist(dir.string(), true); });
    fs::remove_all(dir);
    QVERIFY2(err.find("image size 4194304x4194304 is not 1..65535 per side") != std::string::npos, err.c_str());
  }
  // .plm: a tensor whose shape does not match its record is refused before allocating.
  void plmShapeLie() {
    const std::string plm = (kCorpus / "fuzz_plm" / "classifier.plm").string();
    TorchZipReader zip(plm);
    nlohmann::json m = nlohmann::json::parse(zip.readRecord("prunelab.json"));
    nlohmann::json* tensor = nullptr;
    for (auto& node : m["graph"]["nodes"])
      if (!node["tensors"].empty()) {
        tensor = &node["tensors"][0];
        break;
      }
    QVERIFY(tensor);
    (*tensor)["shape"] = {int64_t{1} << 40, 1024};
    const std::string err = test::errorOf(
        [&] { checkpointFromManifest(m.dump(), [&](const std::string& r) { return zip.readRecord(r); }, "x.plm"); });
    QVERIFY2(err.find("x.plm: record t/0: shape [1099511627776, 1024] is too large") == 0, err.c_str());
  }
  // .plm: a manifest that is valid JSON but not an object, or whose version is not an
  // integer, escaped as a raw nlohmann type_error (found by fuzz_plm).
  void plmManifestOfWrongType() {
    auto none = [](const std::string& r) -> std::string { throw Error("x.plm", "no record " + r); };
    const std::string notObject = test::errorOf([&] { checkpointFromManifest("1", none, "x.plm"); });
    QVERIFY2(notObject == "x.plm: not a PruneLab checkpoint", notObject.c_str());
    const std::string badVersion = test::errorOf(
        [&] { checkpointFromManifest(R"({"format":"prunelab-checkpoint","version":"2"})", none, "x.plm"); });
    QVERIFY2(badVersion == "x.plm: corrupt checkpoint manifest: 'version' is not an integer", badVersion.c_str());
  }
  // A float where an integer belongs: nlohmann's get<int64_t>() casts it, undefined
  // behaviour out of range (fuzz_sensitivity: 4e41 MACs); now a message naming the file.
  void floatWhereIntegerExpected() {
    const std::string table = (kCorpus / "fuzz_sensitivity" / "regress_float_macs.json").string();
    const std::string err = test::errorOf([&] { readSensitivityJson(table); });
    QVERIFY2(err.find(table + ": malformed sensitivity table:") == 0 && err.find("expected an integer") != std::string::npos,
             err.c_str());
    QCOMPARE(jsonInt<int>(nlohmann::json(7)), 7);
    auto refused = [](auto read) {
      try {
        read();
      } catch (const nlohmann::json::type_error&) {
        return true;
      }
      return false;
    };
    QVERIFY(refused([] { jsonInt<int>(nlohmann::json(3e9)); }));
    QVERIFY(refused([] { jsonInt<int>(nlohmann::json(int64_t{1} << 40)); }));
    QVERIFY(refused([] { jsonInt<int64_t>(nlohmann::json(2.5)); }));
    QVERIFY(refused([] { jsonInt<int64_t>(nlohmann::json(4.06e41)); }));
    QCOMPARE(jsonInts<int64_t>(nlohmann::json::parse("[1, -2, 3]")), (std::vector<int64_t>{1, -2, 3}));
  }
  // A convolution whose attributes come from a file: stride 0 divided by zero, a short list
  // was read past its end.
  void convAttributesChecked() {
    for (const std::vector<int64_t>& stride : {std::vector<int64_t>{0, 0}, std::vector<int64_t>{1}}) {
      Graph g = test::yoloLike(4);
      for (Node& n : g.nodes())
        if (n.op == OpKind::Conv) n.attrs.set("stride", stride);
      const std::string err = test::errorOf([&] { inferShapes(g, defaultInputShape(g)); });
      QVERIFY2(err.find("model.0.conv") != std::string::npos && err.find("stride") != std::string::npos, err.c_str());
    }
  }
  // Archives LibTorch's reader opened and then refused (no version record, a zip64 record
  // disagreeing with the old one, an encrypted or unparsable version record) leaked its zip
  // state; PruneLab reads zips itself now and names each problem (the leaks themselves would
  // show under scripts/sanitize.sh, which replays these files).
  void zipWithoutVersionRefused() {
    const std::string pt = (kCorpus / "fuzz_pt_file" / "regress_reader_leak.pt").string();
    QVERIFY(test::errorOf([&] { readTorchStateDict(pt); }).find(pt + ": zip archive has no version record") == 0);
    const std::pair<const char*, const char*> cases[] = {
        {"regress_zip64_disagrees.pt", "zip archive holds no files"},
        {"regress_encrypted_version.pt", "record 'archive/version' is encrypted"},
        {"regress_version_unread.pt", "record 'archive/data.pkl' is corrupt"}};
    for (const auto& [file, message] : cases) {
      const std::string path = (kCorpus / "fuzz_pt_file" / file).string();
      const std::string err = test::errorOf([&] { readTorchStateDict(path); });
      QVERIFY2(err.find(path + ": " + message) == 0, err.c_str());
    }
  }
};

QTEST_APPLESS_MAIN(TestFuzzCorpus)
#include "test_fuzz_corpus.moc"
