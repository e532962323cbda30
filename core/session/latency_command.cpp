#include "session/latency_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "session/model_export.h"
#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab {

namespace {

const char* const kPlaceholder = "{onnx}";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first `n` lines of `text`, for an error message that should not drown the user.
std::string firstLines(const std::string& text, int n) {
  std::istringstream in(text);
  std::string line, out;
  for (int k = 0; k < n && std::getline(in, line); ++k) out += (k ? "\n  " : "  ") + line;
  return out;
}

// A private folder for the exported models and the captured output; removed with the
// last copy of the timer.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "prunelab-latency-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw Error(pattern, "cannot create a temporary folder for --latency-cmd");
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

int openForChild(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(path, "cannot open for the latency command");
  return fd;
}

// Waits for `pid` until `timeoutSeconds`; on timeout kills its whole process group (the
// shell's pipelines and ssh included) and reaps it.
CommandRun waitFor(pid_t pid, double timeoutSeconds) {
  CommandRun r;
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw Error("--latency-cmd", "lost track of the command's process");
    if (elapsed() > timeoutSeconds) {
      r.timedOut = true;
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.seconds = elapsed();
  r.exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  return r;
}

}  // namespace

std::string shellQuote(const std::string& path) {
  std::string q = "'";
  for (char c : path) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string substituteOnnx(const std::string& command, const std::string& onnxPath, const std::string& option) {
  const std::string placeholder = kPlaceholder;
  if (command.find(placeholder) == std::string::npos)
    throw Error(option, "'" + command + "' has no {onnx} (where PruneLab puts the model file's path)");
  std::string out;
  size_t from = 0;
  for (size_t at = command.find(placeholder); at != std::string::npos; at = command.find(placeholder, from)) {
    out += command.substr(from, at - from) + shellQuote(onnxPath);
    from = at + placeholder.size();
  }
  return out + command.substr(from);
}

std::optional<double> parseLatencyMs(const std::string& text) {
  static const std::string number = R"(([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?))";
  // Most specific first: ort_run.js's "median_ms X", then "X ms" (a runtime's summary
  // line), then any number (a script that prints just the figure).
  static const std::regex forms[] = {std::regex(R"(median_ms\s*[:=]?\s*)" + number),
                                     std::regex(number + R"(\s*ms\b)"), std::regex(number)};
  for (const std::regex& form : forms) {
    std::optional<double> last;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), form); it != std::sregex_iterator(); ++it)
      last = std::strtod((*it)[1].str().c_str(), nullptr);
    if (last) {
      if (std::isfinite(*last) && *last > 0) return last;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

CommandRun runShellCommand(const std::string& command, double timeoutSeconds, const std::string& scratchDir) {
  const std::string outPath = scratchDir + "/stdout.txt", errPath = scratchDir + "/stderr.txt";
  const int in = openForChild("/dev/null", O_RDONLY);
  const int out = openForChild(outPath, O_WRONLY | O_CREAT | O_TRUNC);
  const int err = openForChild(errPath, O_WRONLY | O_CREAT | O_TRUNC);
  // fork in a process with LibTorch's threads: the child only calls async-signal-safe
  // functions before exec.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so that a timeout kills everything it started
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in);
  ::close(out);
  ::close(err);
  if (pid < 0) throw Error("--latency-cmd", "cannot start /bin/sh");
  ::setpgid(pid, pid);  // also from here: the kill must find the group even if the child has not run yet
  CommandRun r = waitFor(pid, timeoutSeconds);
  r.out = readFile(outPath);
  r.err = readFile(errPath);
  return r;
}

void checkLatencyCommand(const LatencyCommand& c) {
  if (c.command.empty()) throw Error(c.option, "is empty");
  substituteOnnx(c.command, "model.onnx", c.option);
  if (!(c.timeoutSeconds > 0)) throw Error(c.option, "needs a timeout above 0 seconds");
}

std::function<double(Graph&)> latencyCommandTimer(const LatencyCommand& c, const Shape& inputChw, int batch) {
  checkLatencyCommand(c);
  auto scratch = std::make_shared<ScratchDir>();
  return [c, inputChw, batch, scratch](Graph& graph) {
    ExportRequest req;
    req.format = "onnx";
    req.out = scratch->path + "/model.onnx";
    req.inputChw = inputChw;
    req.onnx.foldBn = true;  // the deployment form
    req.onnx.dynamicBatch = false;
    req.onnx.batch = batch;
    exportModel(graph, req);
    const std::string shown = "'" + c.command + "'";
    const CommandRun run = runShellCommand(substituteOnnx(c.command, req.out, c.option), c.timeoutSeconds, scratch->path);
    const std::string stderrHead = run.err.empty() ? "" : "; stderr:\n" + firstLines(run.err, 5);
    if (run.timedOut)
      throw Error(c.option, shown + " timed out after " + numberText(c.timeoutSeconds) + " s (killed)" + stderrHead);
    if (run.exitStatus != 0)
      throw Error(c.option, shown + " failed with exit status " + std::to_string(run.exitStatus) + stderrHead);
    const std::optional<double> ms = parseLatencyMs(run.out);
    if (!ms)
      throw Error(c.option, shown + " exited with status 0 but printed no positive number of milliseconds on stdout" +
                                (run.out.empty() ? std::string(" (stdout was empty)") : ":\n" + firstLines(run.out, 5)) +
                                stderrHead);
    return *ms;
  };
}

}  // namespace prunelab
