#include "cli/dist_launch.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include "distributed/dist_env.h"
#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab::cli {

namespace {

volatile std::sig_atomic_t g_forward = 0;  // the signal to pass on to the workers
void onSignal(int sig) { g_forward = sig; }

std::string describeStatus(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return std::string("was killed by SIG") + (name ? name : std::to_string(sig).c_str());
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

int exitCodeOf(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

}  // namespace

std::vector<std::string> argsWithoutNproc(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0 || a.rfind("nproc=", 0) == 0) continue;
    out.push_back(a);
  }
  return out;
}

int launchLocalWorkers(int nproc, const std::vector<std::string>& args, std::chrono::seconds grace) {
  if (nproc < 1) throw Error("--nproc", "must be at least 1, got " + std::to_string(nproc));
  const char* addr = std::getenv("MASTER_ADDR");
  const char* port = std::getenv("MASTER_PORT");
  const std::optional<long long> given = port ? parseInteger(port) : std::nullopt;
  if (port && (!given || *given < 1 || *given > 65535))
    throw Error("environment variable MASTER_PORT", std::string("expects a port 1..65535, got '") + port + "'");
  const int masterPort = given ? static_cast<int>(*given) : freeLocalPort();
  const std::string masterAddr = addr ? addr : "127.0.0.1";
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids;
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error("--nproc", std::string("cannot start worker: ") + std::strerror(errno));
    if (pid == 0) {
      for (const auto& [name, value] : localWorkerEnvironment(rank, nproc, masterAddr, masterPort))
        ::setenv(name.c_str(), value.c_str(), 1);
      std::vector<char*> argv;
      std::string self = "/proc/self/exe";
      argv.push_back(self.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(self.c_str(), argv.data());
      std::fprintf(stderr, "prunelab-cli: cannot start rank %d: %s\n", rank, std::strerror(errno));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  std::printf("started %d workers (ranks 0-%d, store %s:%d)\n", nproc, nproc - 1, masterAddr.c_str(), masterPort);
  std::fflush(stdout);

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  int result = 0;
  int running = nproc;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    if (g_forward) {
      for (size_t r = 0; r < pids.size(); ++r)
        if (pids[r] > 0) ::kill(pids[r], g_forward);
      g_forward = 0;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      for (size_t r = 0; r < pids.size(); ++r)
        if (pids[r] > 0) {
          std::fprintf(stderr, "prunelab-cli: rank %zu still running %lld s after the failure: killing it\n", r,
                       static_cast<long long>(grace.count()));
          ::kill(pids[r], SIGKILL);
        }
      deadline = std::chrono::steady_clock::time_point::max();
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    for (size_t r = 0; r < pids.size(); ++r) {
      if (pids[r] != done) continue;
      pids[r] = -1;
      --running;
      const int code = exitCodeOf(status);
      if (code != 0) {
        if (result == 0) {
          result = code;
          deadline = std::chrono::steady_clock::now() + grace;
        }
        std::fprintf(stderr, "prunelab-cli: rank %zu %s\n", r, describeStatus(status).c_str());
      }
    }
  }
  return result;
}

}  // namespace prunelab::cli
