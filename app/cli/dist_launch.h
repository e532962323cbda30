#pragma once
// `prunelab-cli train --nproc N`: a local launcher in the manner of torchrun. It starts N
// copies of this program with the same arguments (less --nproc) and torchrun's
// environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT a free
// port unless set), forwards SIGINT/SIGTERM to them, and waits. The workers find each
// other through that environment alone, exactly as under torchrun or Slurm.
//
// When a worker dies (a signal, or a non-zero exit), the launcher says which rank and how;
// the survivors stop on their own (their next collective fails and names the rank), and
// any still running after `grace` are killed. Exit code: 0 when every rank exited 0,
// otherwise the first failure's (128 + signal for a signal).
//
// N is at most maxLocalWorkers() (distributed/dist_env.h). The workers are forked first
// and exec'd only once all N exist: when a fork fails (the process limit), the ones
// already forked leave without running and are reaped before the error is thrown.

#include <chrono>
#include <string>
#include <vector>

namespace prunelab::cli {

// `args`: the worker's argv without the program (e.g. {"train", "--model", ...}).
int launchLocalWorkers(int nproc, const std::vector<std::string>& args,
                       std::chrono::seconds grace = std::chrono::seconds(90));

// argv[1..] without "--nproc N" / "--nproc=N" (what every worker runs).
std::vector<std::string> argsWithoutNproc(int argc, char** argv);

}  // namespace prunelab::cli
