#pragma once
// The other ranks of a data-parallel run the workbench starts (it is rank 0 itself, so its
// curves, histograms and controls are the run's): ranks 1..world-1 as `prunelab-cli train`
// processes with torchrun's environment, running the same model file, data and options.
//
// Threads: created, polled and destroyed on the worker thread that trains. The processes
// are killed when this object goes away before they finish (a failed or cancelled run).

#include <QProcess>
#include <QStringList>
#include <memory>
#include <string>
#include <vector>

namespace prunelab::gui {

class LocalWorkers {
 public:
  // `trainArgs`: everything after "train" that every rank runs. Starts world - 1 processes
  // talking to the store at 127.0.0.1:port (rank 0 must host it); their output goes to
  // logDir/rank<r>.log (files, not pipes nobody reads while the run lasts). Throws
  // prunelab::Error when world is above maxLocalWorkers() (distributed/dist_env.h) or
  // prunelab-cli cannot be found or started; the ranks started before a failed one are
  // killed and reaped first.
  LocalWorkers(int world, int port, const QStringList& trainArgs, const QString& logDir);
  ~LocalWorkers();
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  // After rank 0's run: waits up to `msecs` for every worker; "" when all exited 0, else
  // one line per failed rank with the last line of its log.
  std::string finish(int msecs);

  // prunelab-cli: $PRUNELAB_CLI, else next to this program.
  static QString cliPath();

 private:
  QString logPath(int rank) const;
  void stopAll();  // kills and reaps every rank still running

  std::vector<std::unique_ptr<QProcess>> m_ranks;  // rank r at index r - 1
  QString m_logDir;
};

}  // namespace prunelab::gui
