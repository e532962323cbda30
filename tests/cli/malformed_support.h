#pragma once
// What the malformed-input catalogue's rows are made of (tests/cli/test_malformed_inputs.cpp):
// running prunelab-cli on a row's arguments, writing and rewriting the bad files, and the
// row itself (Case). Header-only: the catalogue is one test executable.

#include <onnx/onnx_pb.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <limits>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "io/torch_zip.h"
#include "test_helpers.h"
#include "util/npy.h"

namespace malformed {

using nlohmann::json;

inline constexpr int kCaseTimeoutMs = 120000;  // a hang, not a slow machine: every row takes seconds

// PRUNELAB_CLI, or $PRUNELAB_CLI_UNDER_TEST: another build's CLI (e.g. main's, to show
// which rows fail on it).
inline QString cliPath() { return qEnvironmentVariable("PRUNELAB_CLI_UNDER_TEST", PRUNELAB_CLI); }

struct Outcome {
  bool finished = false;
  bool crashed = false;  // ended by a signal
  int code = -1;
  std::string err, out;
};

// The account a row with a process limit runs under when the test runs as root:
// RLIMIT_NPROC binds no process of root (the kernel exempts it), so the CLI is started as
// this otherwise unused user.
inline constexpr uid_t kLimitedUser = 64999;

// Limits a row's prunelab-cli runs under (inherited through exec). `fileSizeLimit` > 0:
// RLIMIT_FSIZE with SIGXFSZ ignored, which is how a full disk is simulated without mount.
// `processLimit` > 0: RLIMIT_NPROC, as user kLimitedUser (a low ulimit -u).
struct Limits {
  long fileSizeLimit = 0;
  long processLimit = 0;
};

// Runs prunelab-cli under `limits`.
inline Outcome run(const QStringList& args, const QString& workDir, Limits limits = {}) {
  QProcess p;
  p.setWorkingDirectory(workDir);
  if (limits.fileSizeLimit > 0 || limits.processLimit > 0) {
    p.setChildProcessModifier([limits] {
      if (limits.fileSizeLimit > 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        const rlimit r{static_cast<rlim_t>(limits.fileSizeLimit), static_cast<rlim_t>(limits.fileSizeLimit)};
        ::setrlimit(RLIMIT_FSIZE, &r);
      }
      if (limits.processLimit > 0) {
        const rlimit r{static_cast<rlim_t>(limits.processLimit), static_cast<rlim_t>(limits.processLimit)};
        ::setrlimit(RLIMIT_NPROC, &r);
        // As any other user the limit counts that user's processes: forks fail at once.
        if (::geteuid() == 0 &&
            (::setgroups(0, nullptr) != 0 || ::setgid(kLimitedUser) != 0 || ::setuid(kLimitedUser) != 0))
          ::_exit(121);  // never run unlimited
      }
    });
  }
  p.start(cliPath(), args);
  Outcome o;
  if (!p.waitForStarted(10000)) return o;
  if (!p.waitForFinished(kCaseTimeoutMs)) {
    p.kill();
    p.waitForFinished(5000);
    return o;
  }
  o.finished = true;
  o.crashed = p.exitStatus() == QProcess::CrashExit;
  o.code = p.exitCode();
  o.err = p.readAllStandardError().toStdString();
  o.out = p.readAllStandardOutput().toStdString();
  return o;
}

// Processes a run left behind: with this test a child subreaper (PR_SET_CHILD_SUBREAPER,
// set once in initTestCase), every process orphaned by a prunelab-cli it started (the
// workers of --nproc) becomes its child. Returns how many were still running; all of them
// are killed and reaped, so no row leaves work behind for the next.
inline int stopLeftoverProcesses() {
  int running = 0;
  const QString self = QString::number(::getpid());
  for (const QString& entry : QDir("/proc").entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    bool isPid = false;
    const pid_t pid = entry.toInt(&isPid);
    if (!isPid) continue;
    QFile stat("/proc/" + entry + "/stat");
    if (!stat.open(QIODevice::ReadOnly)) continue;
    // "pid (comm) state ppid ...": the fields after the last ')'.
    const QString text = QString::fromLocal8Bit(stat.readAll());
    const QStringList fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 2 || fields[1] != self) continue;
    if (fields[0] != "Z") ++running;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  return running;
}

inline std::string readAll(const QString& path) {
  std::ifstream in(path.toStdString(), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeAll(const QString& path, const std::string& bytes) {
  std::ofstream out(path.toStdString(), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline QByteArray sha256(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

inline std::string randomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// A .plm rewritten record by record; `edit` may change the manifest (and the records).
inline void rewritePlm(const QString& src, const QString& dst, const std::function<void(json&)>& edit,
                const std::function<void(std::map<std::string, std::string>&)>& editRecords = {}) {
  prunelab::TorchZipReader zip(src.toStdString());
  std::map<std::string, std::string> records;
  for (const auto& r : zip.records()) records[r] = zip.readRecord(r);
  json manifest = json::parse(records.at("prunelab.json"));
  edit(manifest);
  records["prunelab.json"] = manifest.dump();
  if (editRecords) editRecords(records);
  prunelab::TorchZipWriter w(dst.toStdString());
  for (const auto& [name, bytes] : records) w.writeRecord(name, bytes.data(), bytes.size());
  w.finish();
}

// The first node of `op` in a .plm manifest.
inline json& firstNode(json& manifest, const std::string& op) {
  for (auto& n : manifest.at("graph").at("nodes"))
    if (n.at("op") == op) return n;
  throw std::runtime_error("no " + op + " node");
}

// An .onnx rewritten through its protobuf.
inline void rewriteOnnx(const QString& src, const QString& dst, const std::function<void(onnx::ModelProto&)>& edit) {
  onnx::ModelProto m;
  const std::string bytes = readAll(src);
  if (!m.ParseFromString(bytes)) throw std::runtime_error("cannot parse " + src.toStdString());
  edit(m);
  writeAll(dst, m.SerializeAsString());
}

inline onnx::NodeProto& firstOnnxNode(onnx::ModelProto& m, const std::string& type) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == type) return n;
  throw std::runtime_error("no " + type + " node");
}

inline void setInts(onnx::NodeProto& n, const std::string& attr, const std::vector<int64_t>& v) {
  for (auto& a : *n.mutable_attribute())
    if (a.name() == attr) {
      a.clear_ints();
      for (int64_t x : v) a.add_ints(x);
      return;
    }
  throw std::runtime_error("no attribute " + attr);
}

// A hand-written .npy: header text as given (it may lie), then `dataBytes` zero bytes.
inline std::string npy(const std::string& dict, size_t dataBytes) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string s = std::string("\x93NUMPY\x01\x00", 8);
  s += static_cast<char>(header.size() & 0xff);
  s += static_cast<char>(header.size() >> 8);
  return s + header + std::string(dataBytes, '\0');
}

// A YOLO YAML: yolov5n's text with `from` replaced by `to` (once).
inline std::string yamlWith(const std::string& from, const std::string& to) {
  std::string s = readAll(QString(PRUNELAB_SOURCE_DIR) + "/resources/models/yolov5n.yaml");
  const auto at = s.find(from);
  if (at == std::string::npos) throw std::runtime_error("yolov5n.yaml has no '" + from + "'");
  return s.replace(at, from.size(), to);
}

struct Case {
  QString name;
  std::function<void(const QString& dir)> make;  // writes the bad input(s) into dir
  QStringList args;                              // "@" at the start of a word: a path in dir
  int code = 1;
  std::vector<std::string> mustSay = {};  // every fragment must be in stderr
  QString guarded = {};                   // an existing output that must stay as it was ("" none)
  Limits limits = {};                     // RLIMIT_FSIZE (a full disk) or RLIMIT_NPROC for the run
};

}  // namespace malformed
