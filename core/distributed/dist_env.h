#pragma once
// Where a data-parallel worker stands: its rank among `world` processes and where the
// rendezvous store lives. Read from torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT), which Slurm scripts, torchrun and `prunelab-cli --nproc` all
// set, so one binary runs unchanged under any of them.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace prunelab {

struct DistEnv {
  int rank = 0;
  int world = 1;
  int localRank = 0;            // the rank on this machine (picks the GPU with NCCL)
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;       // torchrun's default
  // Forming the group (reaching the store, all ranks arriving) fails after connectTimeout,
  // any one collective after timeout, instead of hanging. A dead rank is noticed at once
  // (its sockets close); the timeouts are for ranks that hang or machines that vanish.
  std::chrono::milliseconds connectTimeout{std::chrono::seconds(300)};
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
};

// The environment's DistEnv when WORLD_SIZE is set (1 included), nullopt otherwise.
// Throws prunelab::Error naming the variable that is malformed or out of range.
std::optional<DistEnv> distEnvFromEnvironment();

// The variables torchrun gives local worker `rank` of `world` (RANK, LOCAL_RANK,
// WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT): what `prunelab-cli --nproc`
// and the workbench set for the processes they start on this machine.
std::vector<std::pair<std::string, std::string>> localWorkerEnvironment(int rank, int world, const std::string& addr,
                                                                        int port);

// The most processes a run may start on this machine (`--nproc`, the workbench's
// Processes box): 4 per core, at least 8. More only time-slice the same cores, and a typo
// such as --nproc 1000 would fork until the process limit.
int maxLocalWorkers();

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick), for a store on
// this machine. Throws prunelab::Error when no socket can be had.
int freeLocalPort();

// "rank 1 of 2 (store 127.0.0.1:29500)", for messages.
std::string describe(const DistEnv& env);

}  // namespace prunelab
