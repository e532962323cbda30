#pragma once
// The data and task options of the commands that read a dataset (train, eval), bound to
// core's DataSpec and TaskSettings: every default lives in core/session and is what
// --help shows. Also the run options train and eval share (batch, workers, device, json).

#include "cli/command_line.h"
#include "session/dataset_spec.h"
#include "session/task_factory.h"

namespace prunelab::cli {

struct DataArgs {
  DataSpec spec;
  TaskSettings task;
};

// --data, --task, --train-limit, --val-limit, --seed, --imgsz, the detection settings and
// classification's --normalize/--mean/--std. --seed and --normalize are left out when the
// command already has them (prune: its own seed, and --normalize ranks channels there);
// the command then says what the data takes.
void addDataOptions(CommandLine& cl, DataArgs& d);

struct RunArgs {
  int64_t batch = 0;        // meaningful only when given (cl.has("--batch")): defaults differ per task
  int workers = 0;          // addRunOptions sets the defaults (LoaderOptions, kDefaultDevice)
  std::string device;       // as given; resolve with runDevice()
};

inline constexpr int64_t kMaxBatch = 1 << 16;  // --batch's bound (a typo, not a request)
// --batch (its default described by `batchDefault`), --workers, --device, --json.
void addRunOptions(CommandLine& cl, RunArgs& r, const std::string& batchDefault);

// Prints dataReport(data) (skipped images, label summary) to stderr.
void printDataReport(const OpenedData& data);

// The device to run on: deviceArgument() (cli/device_arg.h) then core's resolveDevice().
std::string runDevice(const RunArgs& r);

}  // namespace prunelab::cli
