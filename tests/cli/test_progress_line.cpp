// Progress on long CLI work (issue #14 item 6): on a terminal, `train`, `eval` and
// `prune --calib` show one updating line (percent, images/s, ETA) that is cleared before the
// next printed line; without a terminal (a pipe, as here through QProcess) nothing of it
// appears. The terminal is a real pseudo-terminal from util-linux's `script`.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli/progress_line.h"
#include "test_helpers.h"

namespace {

// Runs prunelab-cli with `args` on a pseudo-terminal; returns what the terminal received.
std::string onTerminal(const QStringList& args, int* code) {
  QString command = QString("'%1'").arg(PRUNELAB_CLI);
  for (const QString& a : args) command += " '" + a + "'";
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.remove("PRUNELAB_PROGRESS");
  p.setProcessEnvironment(env);
  p.start("script", {"-qec", command, "/dev/null"});
  if (!p.waitForFinished(300000)) {
    *code = -1;
    return "timeout";
  }
  *code = p.exitCode();
  return p.readAllStandardOutput().toStdString();
}

bool hasProgress(const std::string& out, const std::string& label) {
  const auto at = out.find("\r" + label);
  if (at == std::string::npos) return false;
  const std::string line = out.substr(at, out.find('\r', at + 1) - at);
  return line.find('%') != std::string::npos && line.find("img/s") != std::string::npos &&
         line.find("ETA") != std::string::npos;
}

}  // namespace

class TestProgressLine : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private Q_SLOTS:
  void format() {
    using prunelab::cli::ProgressLine;
    QCOMPARE(ProgressLine::format("train epoch 3/10", 0.45, 812.4, 42.2), std::string("train epoch 3/10  45%  812 img/s  ETA 0:42"));
    QCOMPARE(ProgressLine::format("eval", 1.0, 3000, 0), std::string("eval 100%  3000 img/s  ETA 0:00"));
    QCOMPARE(ProgressLine::format("calibration", 0.0, 0, -1), std::string("calibration   0%  - img/s  ETA -"));
    QCOMPARE(ProgressLine::format("x", 0.5, 1, 3725), std::string("x  50%  1 img/s  ETA 1:02:05"));
  }

  void evalOnTerminal() {
    const QStringList args{"eval", "--model", "resnet20", "--data", "fashion-mnist", "--val-limit", "512", "--batch", "64"};
    int code = 0;
    const std::string tty = onTerminal(args, &code);
    QVERIFY2(code == 0, tty.c_str());
    QVERIFY2(hasProgress(tty, "eval 100%"), tty.c_str());
    QVERIFY2(tty.find("\r\033[K") != std::string::npos, "the line is not cleared before the results");
    QVERIFY2(tty.find("top1") != std::string::npos || tty.find("top-1") != std::string::npos, tty.c_str());
    // Through a pipe: the results only.
    const auto piped = prunelab::test::runCli(args);
    QVERIFY2(piped.code == 0, piped.err.c_str());
    QVERIFY2(piped.out.find('\r') == std::string::npos, piped.out.c_str());
    // PRUNELAB_PROGRESS=1 forces the line through a pipe, but never into --json output.
    for (const bool json : {false, true}) {
      QProcess p;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("PRUNELAB_PROGRESS", "1");
      p.setProcessEnvironment(env);
      QStringList a = args;
      if (json) a << "--json";
      p.start(PRUNELAB_CLI, a);
      QVERIFY(p.waitForFinished(300000));
      const std::string out = p.readAllStandardOutput().toStdString();
      QVERIFY2(p.exitCode() == 0, out.c_str());
      QVERIFY2(hasProgress(out, "eval 100%") == !json, out.c_str());
    }
  }

  void trainAndCalibrationOnTerminal() {
    const QString run = m_dir.path() + "/run";
    int code = 0;
    const std::string tty = onTerminal({"train", "--model", "resnet20", "--data", "fashion-mnist", "--epochs", "2", "--train-limit",
                                        "256", "--val-limit", "128", "--batch", "32", "--out", run},
                                       &code);
    QVERIFY2(code == 0, tty.c_str());
    QVERIFY2(hasProgress(tty, "train epoch 1/2 100%"), tty.c_str());
    QVERIFY2(hasProgress(tty, "train epoch 2/2"), tty.c_str());
    // Each epoch's own line still comes, after the progress line is cleared.
    QVERIFY2(tty.find("\r\033[Kepoch   1/2") != std::string::npos || tty.find("\033[Kepoch") != std::string::npos, tty.c_str());

    const std::string calib = onTerminal({"prune", "--model", "resnet20", "--criterion", "activation", "--calib", "fashion-mnist",
                                          "--calib-batches", "3", "--calib-batch", "16", "--percent", "20%", "--out",
                                          m_dir.path() + "/p.plm"},
                                         &code);
    QVERIFY2(code == 0, calib.c_str());
    QVERIFY2(hasProgress(calib, "calibration 100%"), calib.c_str());
    // --json keeps stdout machine-readable even on a terminal.
    const std::string json = onTerminal({"eval", "--model", "resnet20", "--data", "fashion-mnist", "--val-limit", "128", "--json"}, &code);
    QVERIFY2(code == 0 && json.find('\r' + std::string("eval")) == std::string::npos, json.c_str());
  }
};

QTEST_GUILESS_MAIN(TestProgressLine)
#include "test_progress_line.moc"
