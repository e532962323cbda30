#include "cli/dist_launch.h"

#include <fcntl.h>
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

namespace {

// Forks the N workers; each waits at `gate` (a pipe) between fork and exec, so none runs
// until all N exist. When a fork fails part-way (the process limit, ulimit -u), the gate
// closes, the started children read end-of-file and leave without running anything, and
// every one is reaped before the error: a failed launch leaves no process behind.
std::vector<pid_t> startWorkers(int nproc, const std::vector<std::string>& args, const std::string& masterAddr,
                                int masterPort) {
  int gate[2];
  if (::pipe2(gate, O_CLOEXEC) != 0)
    throw Error("--nproc", std::string("cannot start the workers: ") + std::strerror(errno));
  std::vector<pid_t> pids;
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      ::close(gate[1]);
      for (const pid_t started : pids)
        while (::waitpid(started, nullptr, 0) < 0 && errno == EINTR) {
        }
      ::close(gate[0]);
      throw Error("--nproc", "cannot start worker " + std::to_string(rank) + " of " + std::to_string(nproc) + ": " +
                                 std::strerror(err) +
                                 (err == EAGAIN ? " (the process limit, ulimit -u, allows fewer processes)" : "") +
                                 "; the " + std::to_string(pids.size()) + " already started were stopped");
    }
    if (pid == 0) {
      ::close(gate[1]);
      char go = 0;
      ssize_t n;
      while ((n = ::read(gate[0], &go, 1)) < 0 && errno == EINTR) {
      }
      if (n != 1) ::_exit(125);  // the launch failed: leave without running anything
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
  const std::string go(static_cast<size_t>(nproc), 'g');  // one byte per worker opens the gate
  const ssize_t written = ::write(gate[1], go.data(), go.size());
  ::close(gate[1]);
  ::close(gate[0]);
  if (written != static_cast<ssize_t>(go.size())) {  // cannot happen for a few bytes; never leave them waiting
    for (const pid_t started : pids) ::kill(started, SIGKILL);
    for (const pid_t started : pids) ::waitpid(started, nullptr, 0);
    throw Error("--nproc", "cannot start the workers (the start signal could not be written)");
  }
  return pids;
}

}  // namespace

int launchLocalWorkers(int nproc, const std::vector<std::string>& args, std::chrono::seconds grace) {
  if (nproc < 1) throw Error("--nproc", "must be at least 1, got " + std::to_string(nproc));
  if (nproc > maxLocalWorkers())
    throw Error("--nproc", "must be at most " + std::to_string(maxLocalWorkers()) +
                               " on this machine (4 per core, at least 8), got " + std::to_string(nproc));
  const char* addr = std::getenv("MASTER_ADDR");
  const char* port = std::getenv("MASTER_PORT");
  const std::optional<long long> given = port ? parseInteger(port) : std::nullopt;
  if (port && (!given || *given < 1 || *given > 65535))
    throw Error("environment variable MASTER_PORT", std::string("expects a port 1..65535, got '") + port + "'");
  const int masterPort = given ? static_cast<int>(*given) : freeLocalPort();
  const std::string masterAddr = addr ? addr : "127.0.0.1";
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids = startWorkers(nproc, args, masterAddr, masterPort);
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
