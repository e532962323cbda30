#pragma once
// Latency measured where the model will run: a user command (`--latency-cmd`) that times
// an ONNX file on the deploy target (ONNX Runtime, TensorRT's trtexec, a phone's
// benchmark_model over ssh) and prints the milliseconds. Its per-layer costs differ from
// PruneLab's executor, so a latency target is only met there if the search measures there.
//
// Each measurement exports the model (exportModel: BN folded, static batch, read back) to
// a private temporary folder, substitutes the file's path for every `{onnx}` in the
// command (single-quoted for the shell: the path adds no shell syntax, the command is
// exactly what the user wrote), runs it under /bin/sh with stdin from /dev/null, stdout and
// stderr captured, and kills its process group after the timeout. The reading rule
// (parseLatencyMs): the last "median_ms X" on stdout; else the last number followed by
// "ms"; else the last number. A command that exits non-zero, times out, or prints no
// positive number is a prunelab::Error naming the command, its exit status and the first
// lines of its stderr.
//
// Device-agnostic: PruneLab only writes the file and reads a number; whatever the command
// does (copy it to a phone, build an engine) is its own. POSIX only (fork/exec); no Qt.
// Thread: the calling thread, which blocks while the command runs.

#include <functional>
#include <optional>
#include <string>

#include "graph/graph.h"

namespace prunelab {

struct LatencyCommand {
  std::string command;          // with {onnx}; empty: no command (the executor measures)
  double timeoutSeconds = 300;  // per run of the command
  std::string option = "--latency-cmd";  // named in errors
};

struct CommandRun {
  int exitStatus = 0;  // the exit code, or 128 + the signal that ended it
  bool timedOut = false;
  std::string out, err;
  double seconds = 0;
};

// `path` quoted for /bin/sh: '...' with every ' written as '\''.
std::string shellQuote(const std::string& path);
// `command` with each {onnx} replaced by shellQuote(onnxPath); throws naming `option`
// when the command has no {onnx}.
std::string substituteOnnx(const std::string& command, const std::string& onnxPath,
                           const std::string& option = "--latency-cmd");
// The milliseconds a command printed (the rule above); empty when there is no positive,
// finite number.
std::optional<double> parseLatencyMs(const std::string& stdoutText);
// Runs `command` under /bin/sh -c; stdout/stderr are collected through files in `scratchDir`.
CommandRun runShellCommand(const std::string& command, double timeoutSeconds, const std::string& scratchDir);

// The latency of a graph (shapes inferred or not) at `batch` x `inputChw`, measured by the
// command: usable as LatencyGoalOptions::measure and LatencyTableOptions::modelTimer.
// The temporary folder lives as long as the returned function (and its copies).
std::function<double(Graph&)> latencyCommandTimer(const LatencyCommand& command, const Shape& inputChw, int batch);

// Checks the command before anything is measured: not empty, has {onnx}, a timeout > 0.
void checkLatencyCommand(const LatencyCommand& command);

}  // namespace prunelab
