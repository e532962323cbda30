#pragma once
// The catalogue's second round of rows (trust, round two): inputs the CLI used to accept
// although invalid, filesystem errors that ended as "internal error", archives that lie
// about a record's size, and --nproc groups that could not start. Each row failed on the
// CLI before that round (BENCHMARKS.md has the counts).

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "malformed_support.h"

namespace malformed {

// zip's CRC-32 (the reader checks the stored records' CRC).
inline uint32_t crc32Of(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (const unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void putLe(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A PyTorch-style zip written byte by byte: "<top>/version" stored ("3"), then `lying`,
// whose directory entry says it is deflated to `declared` bytes (zip64) from `packed`
// compressed bytes; the compressed bytes are zeros, and only the sizes matter: a reader
// that believes them allocates `declared` bytes before inflating anything.
inline std::string zipWithLyingRecord(const std::string& top, const std::string& lying, uint64_t declared,
                                      uint64_t packed) {
  std::string file, directory;
  uint64_t count = 0;
  auto record = [&](const std::string& name, int method, uint32_t crc, const std::string& data, uint64_t size) {
    const uint64_t offset = file.size();
    putLe(file, 0x04034b50, 4), putLe(file, 45, 2), putLe(file, 0, 2), putLe(file, uint64_t(method), 2);
    putLe(file, 0, 4), putLe(file, crc, 4), putLe(file, data.size(), 4), putLe(file, 0xffffffffu, 4);
    putLe(file, name.size(), 2), putLe(file, 0, 2);
    file += name + data;
    const bool zip64 = size >= 0xffffffffu;
    putLe(directory, 0x02014b50, 4), putLe(directory, 45, 2), putLe(directory, 45, 2), putLe(directory, 0, 2);
    putLe(directory, uint64_t(method), 2), putLe(directory, 0, 4), putLe(directory, crc, 4);
    putLe(directory, data.size(), 4), putLe(directory, zip64 ? 0xffffffffu : size, 4);
    putLe(directory, name.size(), 2), putLe(directory, zip64 ? 12 : 0, 2), putLe(directory, 0, 2);
    putLe(directory, 0, 2), putLe(directory, 0, 2), putLe(directory, 0, 4), putLe(directory, offset, 4);
    directory += name;
    if (zip64) putLe(directory, 1, 2), putLe(directory, 8, 2), putLe(directory, size, 8);
    ++count;
  };
  record(top + "/version", 0, crc32Of("3\n"), "3\n", 2);
  record(top + "/" + lying, 8, 0, std::string(packed, '\0'), declared);
  const uint64_t directoryAt = file.size();
  file += directory;
  putLe(file, 0x06054b50, 4), putLe(file, 0, 2), putLe(file, 0, 2), putLe(file, count, 2), putLe(file, count, 2);
  putLe(file, directory.size(), 4), putLe(file, directoryAt, 4), putLe(file, 0, 2);
  return file;
}

// A record size no machine running this test could hold: twice its memory (tens of GiB),
// yet within deflate's 1032:1 ratio of the compressed bytes the archive really has.
inline uint64_t bombSize() {
  const uint64_t memory = uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGESIZE));
  return std::max<uint64_t>(uint64_t{32} << 30, 2 * memory);
}

// Every use of value `from` (node inputs and outputs, graph outputs) renamed to `to`.
inline void renameValue(onnx::ModelProto& m, const std::string& from, const std::string& to) {
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    for (auto& in : *n.mutable_input())
      if (in == from) in = to;
    for (auto& out : *n.mutable_output())
      if (out == from) out = to;
  }
  for (auto& o : *m.mutable_graph()->mutable_output())
    if (o.name() == from) o.set_name(to);
}

// An (1, 3, 32, 32) float32 .npy with three NaN/Inf values among zeros.
inline std::string npyWithNaN() {
  std::string s = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 32, 32), }", 0);
  std::vector<float> data(3 * 32 * 32, 0.0f);
  data[5] = std::numeric_limits<float>::quiet_NaN();
  data[77] = std::numeric_limits<float>::infinity();
  data[900] = -std::numeric_limits<float>::infinity();
  return s + std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
}

using AddCase = std::function<void(Case)>;

// A row's make step: a copy of the valid fashion-det folder as dir/det, then `spoil(det)`.
inline std::function<void(const QString&)> withDetData(const QString& valid, std::function<void(const QString&)> spoil) {
  return [valid, spoil](const QString& dir) {
    QDir().mkpath(dir + "/det");
    QProcess cp;
    cp.start("cp", {"-r", valid + "/det/.", dir + "/det"});
    cp.waitForFinished();
    spoil(dir + "/det");
  };
}

// One quick training run of each task (64 images, 1 epoch), into dir/run.
inline QStringList trainClassifierArgs() {
  return {"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "1", "--train-limit", "64", "--val-limit",
          "64", "--out", "@run"};
}
inline QStringList trainDetectorArgs() {
  return {"train", "--model", "yolov8n", "--data", "@det/data.yaml", "--epochs", "1", "--batch", "4", "--imgsz", "64",
          "--out", "@run"};
}

inline void addOnnxRows(const AddCase& add, const QString& valid) {
  auto onnxEdit = [valid](std::function<void(onnx::ModelProto&)> f) {
    return [valid, f](const QString& dir) { rewriteOnnx(valid + "/r20.onnx", dir + "/m.onnx", f); };
  };
  auto untagged = [](onnx::ModelProto& m) {
    for (auto& n : *m.mutable_graph()->mutable_node()) n.clear_doc_string();
  };
  const QStringList infoOnnx = {"info", "--model", "@m.onnx"};

  add({"onnx opset from the future", onnxEdit([](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(99); }),
       infoOnnx, 1, {"m.onnx", "opset 99", "newer"}});
  add({"onnx graph output listed twice", onnxEdit([](onnx::ModelProto& m) {
         *m.mutable_graph()->add_output() = m.graph().output(0);
       }),
       infoOnnx, 1, {"m.onnx", "listed twice"}});
  // The second Relu writes the first Relu's tensor (and its readers read that name): the
  // file is well-formed protobuf, and one of the two values silently replaced the other.
  add({"onnx two nodes write the same tensor", onnxEdit([untagged](onnx::ModelProto& m) {
         untagged(m);
         std::vector<onnx::NodeProto*> relus;
         for (auto& n : *m.mutable_graph()->mutable_node())
           if (n.op_type() == "Relu") relus.push_back(&n);
         const std::string second = relus.at(1)->output(0), first = relus.at(0)->output(0);  // copies: renamed below
         renameValue(m, second, first);
       }),
       infoOnnx, 1, {"m.onnx", "written by two nodes"}});
  add({"onnx kernel_shape disagrees with the weight", onnxEdit([untagged](onnx::ModelProto& m) {
         untagged(m);
         setInts(firstOnnxNode(m, "Conv"), "kernel_shape", {5, 5});
       }),
       infoOnnx, 1, {"m.onnx", "kernel_shape", "[5, 5]"}});
}

inline void addNpyRows(const AddCase& add, const QString& valid) {
  const QStringList inferNpy = {"infer", "--model", "@good.plm", "--input", "@in.npy", "--output", "@y.npy"};
  auto withGood = [valid](std::function<std::string()> f) {
    return [valid, f](const QString& dir) {
      QFile::copy(valid + "/r20.plm", dir + "/good.plm");
      writeAll(dir + "/in.npy", f());
    };
  };
  add({"npy more data than the header declares", withGood([] {
         return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 32, 32), }", 12288 + 4096);
       }),
       inferNpy, 1, {"in.npy", "more data"}, "y.npy"});
  add({"npy NaN/Inf input warns", withGood(npyWithNaN), inferNpy, 0, {"warning", "in.npy", "NaN/Inf", "3 of 3072"}});
}

// Labels and data.yaml paths.
inline void addDataRows(const AddCase& add, const QString& valid) {
  auto detData = [valid](std::function<void(const QString&)> spoil) { return withDetData(valid, spoil); };
  auto labelFiles = [](const QString& det) {
    QStringList r;
    const QString d = det + "/labels/train";
    for (const QString& f : QDir(d).entryList({"*.txt"}, QDir::Files, QDir::Name)) r << d + "/" + f;
    return r;
  };
  auto dataYaml = [](const QString& det) { return readAll(det + "/data.yaml"); };
  auto replaced = [](std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    if (at == std::string::npos) throw std::runtime_error("data.yaml has no '" + from + "'");
    return s.replace(at, from.size(), to);
  };
  const QStringList trainDet = trainDetectorArgs();
  add({"labels with zero-width or zero-height boxes", detData([labelFiles](const QString& d) {
         int i = 0;
         for (const QString& f : labelFiles(d)) writeAll(f, i++ % 2 ? "0 0.5 0.5 0 0.2\n" : "0 0.5 0.5 0.2 0\n");
       }),
       trainDet, 1, {".txt:1", "zero width or height"}});
  add({"a directory where each label file should be", detData([labelFiles](const QString& d) {
         for (const QString& f : labelFiles(d)) {
           QFile::remove(f);
           QDir().mkpath(f);
         }
       }),
       trainDet, 1, {".txt", "directory"}});
  add({"data.yaml split in a system folder", detData([dataYaml, replaced](const QString& d) {
         // A hostile split that climbs into /dev, which train must refuse. check_layers: path ok
         writeAll(d + "/data.yaml", replaced(dataYaml(d), "train: images/train", "train: ../../../../../../../../../../../../dev"));
       }),
       trainDet, 1, {"data.yaml", "/dev", "system folder"}});
  add({"data.yaml split outside its folder warns", detData([dataYaml, replaced](const QString& d) {
         QDir().mkpath(d + "/conf");
         writeAll(d + "/conf/data.yaml",
                  replaced(replaced(dataYaml(d), "train: images/train", "train: ../images/train"), "val: images/val",
                           "val: ../images/val"));
       }),
       {"train", "--model", "yolov8n", "--data", "@det/conf/data.yaml", "--epochs", "1", "--batch", "4", "--imgsz", "64",
        "--out", "@run"},
       0, {"warning", "data.yaml", "outside"}});
}

// Ratio files and prune options.
inline void addPruneRows(const AddCase& add) {
  const QStringList prune = {"prune", "--model", "resnet20", "--criterion", "l1", "--out", "@out.plm"};
  auto ratios = [](const std::string& text) {
    return [text](const QString& dir) {
      writeAll(dir + "/out.plm", "precious existing output");
      writeAll(dir + "/r.yaml", text);
    };
  };
  add({"ratios naming the output layer", ratios("fc: 0.5\n"), prune + QStringList{"--ratios", "@r.yaml"}, 1,
       {"r.yaml", "fc", "cannot be pruned"}, "out.plm"});
  add({"ratios with a duplicated key", ratios("layer1: 0.3\nlayer2: 0.2\nlayer1: 0.5\n"),
       prune + QStringList{"--ratios", "@r.yaml"}, 1, {"r.yaml", "layer1", "twice"}, "out.plm"});
  auto guardOut = [](const QString& dir) { writeAll(dir + "/out.plm", "precious existing output"); };
  add({"--round-to larger than every layer", guardOut, prune + QStringList{"--percent", "0.3", "--round-to", "1000"}, 1,
       {"--round-to", "1000"}, "out.plm"});
  add({"--in-channels 0", [](const QString&) {}, {"info", "--model", "resnet20", "--in-channels", "0"}, 1, {"--in-channels"}});
}

inline void addTrainOptionRows(const AddCase& add, const QString& valid) {
  auto nothing = [](const QString&) {};
  const QStringList trainCls = trainClassifierArgs();
  const QStringList trainDet = trainDetectorArgs();
  auto detData = [valid](std::function<void(const QString&)> spoil) { return withDetData(valid, spoil); };
  add({"--warmup -1", nothing, trainCls + QStringList{"--warmup=-1"}, 1, {"--warmup"}});
  add({"--momentum 1.5", nothing, trainCls + QStringList{"--momentum", "1.5"}, 1, {"--momentum"}});
  add({"--val-every 0", nothing, trainCls + QStringList{"--val-every", "0"}, 1, {"--val-every"}});
  add({"--mosaic 1.5", detData([](const QString&) {}), trainDet + QStringList{"--mosaic", "1.5"}, 1, {"--mosaic"}});
  add({"--close-mosaic -1", detData([](const QString&) {}), trainDet + QStringList{"--close-mosaic=-1"}, 1,
       {"--close-mosaic"}});
  add({"--imgsz 0", detData([](const QString&) {}),
       {"train", "--model", "yolov8n", "--data", "@det/data.yaml", "--epochs", "1", "--batch", "4", "--imgsz", "0", "--out",
        "@run"},
       1, {"--imgsz"}});
  add({"--resume without a checkpoint warns", [](const QString& dir) { QDir().mkpath(dir + "/run"); },
       trainCls + QStringList{"--resume"}, 0, {"warning", "--resume", "last.plm"}});
}

inline void addFilesystemRows(const AddCase& add) {
  auto aFile = [](const QString& name) {
    return [name](const QString& dir) { writeAll(dir + "/" + name, "a file, not a folder"); };
  };
  add({"export --out under a file", aFile("afile"),
       {"export", "--model", "resnet20", "--format", "native", "--out", "@afile/sub/o.plm"}, 1, {"afile/sub", "Not a directory"}});
  add({"infer --output-dir is a file", aFile("outdir"),
       {"infer", "--model", "resnet20", "--input", "@x.npy", "--output-dir", "@outdir"}, 1, {"outdir", "not a directory"},
       "outdir"});
  add({"train --out is a file", aFile("run"), trainClassifierArgs(), 1, {"run", "not a directory"}, "run"});
  add({"make-dataset --out is a file", aFile("ds"),
       {"make-dataset", "fashion-det", "--out", "@ds", "--train", "4", "--val", "2", "--size", "64"}, 1,
       {"ds", "not a directory"}, "ds"});
}

// Archives that lie about a record's size.
inline void addArchiveRows(const AddCase& add) {
  add({"pt pickle record claims tens of GiB", [](const QString& dir) {
         writeAll(dir + "/w.pt", zipWithLyingRecord("archive", "data.pkl", bombSize(), bombSize() / 1000));
       },
       {"info", "--model", "resnet20", "--weights", "@w.pt"}, 1, {"w.pt", "data.pkl", "memory"}});
  add({"plm manifest record claims tens of GiB", [](const QString& dir) {
         writeAll(dir + "/m.plm", zipWithLyingRecord("archive", "prunelab.json", bombSize(), bombSize() / 1000));
       },
       {"info", "--model", "@m.plm"}, 1, {"m.plm", "prunelab.json", "memory"}});
}

// --nproc: never a runaway group (as an unprivileged user when root: root ignores ulimit -u).
inline void addNprocRows(const AddCase& add) {
  auto nothing = [](const QString&) {};
  const QStringList trainNproc = {"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "1", "--train-limit",
                                  "64", "--val-limit", "64", "--out", "@run", "--dist-timeout", "20"};
  add({"--nproc 100000", nothing, trainNproc + QStringList{"--nproc", "100000"}, 1, {"--nproc", "at most"}, {}, Limits{0, 4}});
  add({"--nproc 6 under ulimit -u 4", nothing, trainNproc + QStringList{"--nproc", "6"}, 1, {"--nproc", "process limit"}, {},
       Limits{0, 4}});
}

// The second round's rows; `valid` is the directory of valid files (r20.plm, r20.onnx,
// det/, x.npy) the bad ones are made from.
inline void addRoundTwoCases(const AddCase& add, const QString& valid) {
  addOnnxRows(add, valid);
  addNpyRows(add, valid);
  addDataRows(add, valid);
  addPruneRows(add);
  addTrainOptionRows(add, valid);
  addFilesystemRows(add);
  addArchiveRows(add);
  addNprocRows(add);
}

}  // namespace malformed
