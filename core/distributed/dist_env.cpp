#include "distributed/dist_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab {

namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

long long integerVar(const char* name, const std::string& text, long long lo, long long hi) {
  const std::optional<long long> v = parseInteger(text);
  if (!v || *v < lo || *v > hi)
    throw Error(std::string("environment variable ") + name,
                "expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + text + "'");
  return *v;
}

}  // namespace

std::optional<DistEnv> distEnvFromEnvironment() {
  const std::optional<std::string> world = env("WORLD_SIZE");
  if (!world) return std::nullopt;
  DistEnv e;
  e.world = static_cast<int>(integerVar("WORLD_SIZE", *world, 1, 65536));
  const std::optional<std::string> rank = env("RANK");
  if (!rank && e.world > 1)
    throw Error("environment variable RANK", "is not set, but WORLD_SIZE is " + *world + " (torchrun sets both)");
  if (rank) e.rank = static_cast<int>(integerVar("RANK", *rank, 0, e.world - 1));
  e.localRank = e.rank;
  if (const auto local = env("LOCAL_RANK")) e.localRank = static_cast<int>(integerVar("LOCAL_RANK", *local, 0, 65535));
  if (const auto addr = env("MASTER_ADDR")) {
    if (addr->empty()) throw Error("environment variable MASTER_ADDR", "is empty");
    e.masterAddr = *addr;
  } else if (e.world > 1) {
    throw Error("environment variable MASTER_ADDR", "is not set (the host of rank 0, where the store listens)");
  }
  if (const auto port = env("MASTER_PORT")) e.masterPort = static_cast<int>(integerVar("MASTER_PORT", *port, 1, 65535));
  else if (e.world > 1) throw Error("environment variable MASTER_PORT", "is not set (the store's port on MASTER_ADDR)");
  return e;
}

std::vector<std::pair<std::string, std::string>> localWorkerEnvironment(int rank, int world, const std::string& addr,
                                                                        int port) {
  return {{"RANK", std::to_string(rank)},         {"LOCAL_RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(world)},  {"LOCAL_WORLD_SIZE", std::to_string(world)},
          {"MASTER_ADDR", addr},                  {"MASTER_PORT", std::to_string(port)}};
}

int maxLocalWorkers() { return std::max(8, 4 * static_cast<int>(std::thread::hardware_concurrency())); }

int freeLocalPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error("data-parallel training", std::string("cannot open a socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw Error("data-parallel training", "no free port on 127.0.0.1: " + why);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string describe(const DistEnv& env) {
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world) + " (store " + env.masterAddr + ":" +
         std::to_string(env.masterPort) + ")";
}

}  // namespace prunelab
