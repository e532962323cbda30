#include "gui/local_workers.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QThread>

#include "distributed/dist_env.h"
#include "util/error.h"

namespace prunelab::gui {

QString LocalWorkers::cliPath() {
  const QString env = qEnvironmentVariable("PRUNELAB_CLI");
  if (!env.isEmpty()) return env;
  return QCoreApplication::applicationDirPath() + "/prunelab-cli";
}

LocalWorkers::LocalWorkers(int world, int port, const QStringList& trainArgs, const QString& logDir)
    : m_logDir(logDir) {
  if (world > maxLocalWorkers())
    throw Error("Processes", "at most " + std::to_string(maxLocalWorkers()) +
                                 " on this machine (4 per core, at least 8), got " + std::to_string(world));
  const QString cli = cliPath();
  if (!QFileInfo(cli).isExecutable())
    throw Error(cli.toStdString(), "not found: data-parallel training starts its other processes with prunelab-cli "
                                   "(set PRUNELAB_CLI to its path)");
  const int threads = std::max(1, QThread::idealThreadCount() / world);
  for (int rank = 1; rank < world; ++rank) {
    auto p = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [name, value] : localWorkerEnvironment(rank, world, "127.0.0.1", port))
      env.insert(QString::fromStdString(name), QString::fromStdString(value));
    p->setProcessEnvironment(env);
    p->setProcessChannelMode(QProcess::MergedChannels);
    p->setStandardOutputFile(logPath(rank));
    p->start(cli, QStringList{"train"} + trainArgs + QStringList{"--threads", QString::number(threads)});
    if (!p->waitForStarted(10000)) {
      // The destructor does not run for a constructor that throws: stop the ranks started
      // so far here, or they would wait for rank 0's store until their timeout.
      stopAll();
      throw Error(cli.toStdString(), "could not start rank " + std::to_string(rank) + " of " + std::to_string(world) +
                                         ": " + p->errorString().toStdString() + "; the ranks started were stopped");
    }
    m_ranks.push_back(std::move(p));
  }
}

void LocalWorkers::stopAll() {
  for (auto& p : m_ranks)
    if (p->state() != QProcess::NotRunning) {
      p->kill();
      p->waitForFinished(5000);
    }
}

QString LocalWorkers::logPath(int rank) const { return m_logDir + "/rank" + QString::number(rank) + ".log"; }

LocalWorkers::~LocalWorkers() { stopAll(); }

std::string LocalWorkers::finish(int msecs) {
  std::string problems;
  for (size_t i = 0; i < m_ranks.size(); ++i) {
    QProcess& p = *m_ranks[i];
    if (p.state() != QProcess::NotRunning && !p.waitForFinished(msecs)) {
      p.kill();
      p.waitForFinished(5000);
      problems += "rank " + std::to_string(i + 1) + " did not finish and was stopped\n";
      continue;
    }
    if (p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0) continue;
    QFile log(logPath(static_cast<int>(i + 1)));
    const QStringList lines =
        log.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(log.readAll()).trimmed().split('\n') : QStringList{};
    problems += "rank " + std::to_string(i + 1) +
                (p.exitStatus() == QProcess::CrashExit ? std::string(" crashed")
                                                       : " exited with code " + std::to_string(p.exitCode())) +
                (lines.isEmpty() || lines.back().isEmpty() ? std::string() : ": " + lines.back().toStdString()) + "\n";
  }
  return problems;
}

}  // namespace prunelab::gui
