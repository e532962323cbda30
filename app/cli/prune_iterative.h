#pragma once
// prune's iterative form with fine-tuning between the cuts (`--steps N --fine-tune-epochs E
// --data SPEC --run-dir DIR`): its options and its run, an adapter over
// core/session/iterative_prune.h. cmd_prune.cpp reads the pruning request as for a
// one-shot cut and hands it here.

#include <cstdint>
#include <string>

#include "cli/command_line.h"
#include "cli/data_options.h"
#include "pruning/pruner.h"
#include "session/calibration.h"

namespace prunelab {
class Session;
}

namespace prunelab::cli {

struct IterativeArgs {
  int epochs = 0;     // --fine-tune-epochs; the mode is on when it is given
  double lr = 0;      // meaningful when given: else a tenth of the task recipe's
  int64_t batch = 0;  // meaningful when given: else the task recipe's
  std::string runDir;
  DataArgs data;
};

// --fine-tune-epochs, --fine-tune-lr, --fine-tune-batch, --run-dir and the data options
// (cli/data_options.h; prune's own --seed and --normalize stay prune's). Call after
// prune's own options.
void addIterativeOptions(CommandLine& cl, IterativeArgs& it);

bool wantsIterative(const CommandLine& cl);

// Before anything loads: --fine-tune-epochs needs --data and --run-dir, the other options
// need --fine-tune-epochs, and the modes that plan in one step are refused. Throws
// prunelab::Error naming the option.
void checkIterativeArgs(const CommandLine& cl, const IterativeArgs& it);

// Opens the data, runs the schedule (request.steps cuts) on the session's model, prints
// each step, writes `outPath` (the final model with the whole surgery log). Returns the
// exit code (130 when a step's training was interrupted: run again to resume).
int runIterativePrune(const CommandLine& cl, PruneRequest& request, CalibrationOptions calibration,
                      const std::string& outPath, IterativeArgs& it, Session& session, const std::string& modelName);

}  // namespace prunelab::cli
