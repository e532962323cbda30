#pragma once
// Shared helpers for the Qt Test executables.

#include <ATen/ATen.h>

#include <QProcess>
#include <QtTest/QtTest>
#include <functional>
#include <string>

#include "util/error.h"

#include "util/npy.h"

namespace prunelab::test {

// A finished prunelab-cli run (PRUNELAB_CLI): exit code, stdout, stderr.
struct CliRun {
  int code;
  std::string out, err;
};

inline CliRun runCli(const QStringList& args, int timeoutMs = 600000) {
  QProcess p;
  p.start(PRUNELAB_CLI, args);
  if (!p.waitForFinished(timeoutMs)) return {-1, "", "timeout"};
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

inline std::string refPath(const std::string& file) { return std::string(PRUNELAB_REF_DIR) + "/" + file; }

// The message of the prunelab::Error that `fn` throws, or "" when it throws none.
inline std::string errorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const prunelab::Error& e) {
    return e.what();
  }
  return {};
}

inline double maxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// Compares with a message that shows the difference when it fails.
#define PRUNELAB_COMPARE_TENSORS(actual, expected, tol)                                              \
  do {                                                                                               \
    const at::Tensor _a = (actual), _e = (expected);                                                  \
    QCOMPARE(_a.sizes().vec(), _e.sizes().vec());                                                     \
    const double _d = prunelab::test::maxAbsDiff(_a, _e);                                             \
    QVERIFY2(_d <= (tol), qPrintable(QString("max abs diff %1 > tolerance %2").arg(_d).arg(tol)));    \
  } while (0)

// A parity comparison means something only if the reference depends on its input: an
// executor that ignored x (or returned the biases' constant) would otherwise pass. `moved`
// is max|f(x) - f(0)| in the comparison's own metric, with f(0) the reference's output for
// an all-zero input; it must be at least 100x the comparison's tolerance.
#define PRUNELAB_VERIFY_DEPENDS_ON_INPUT(moved, tol)                                                       \
  do {                                                                                                   \
    const double _m = (moved);                                                                           \
    QVERIFY2(_m >= 100 * (tol), qPrintable(QString("the reference barely depends on its input: "          \
                                                   "max|f(x) - f(0)| = %1 < 100 x tolerance %2")         \
                                               .arg(_m)                                                  \
                                               .arg(tol)));                                              \
  } while (0)

}  // namespace prunelab::test
