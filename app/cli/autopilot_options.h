#pragma once
// train's sr autopilot options (--sparsity-target, --by-epoch, --sparsity-threshold,
// --sparsity-max-drop; core/train/sr_autopilot.h) and its line in the epoch report: kept
// apart from cmd_train.cpp, which only calls these three.

#include "cli/command_line.h"
#include "train/sr_autopilot.h"
#include "train/train_observer.h"

namespace prunelab::cli {

void addAutopilotOptions(CommandLine& cl, SrAutopilotOptions& o);
// After parsing: UsageError naming the option for values out of range, for --by-epoch or
// a threshold without --sparsity-target, and for --by-epoch missing or after --epochs.
void checkAutopilotArgs(const CommandLine& cl, const SrAutopilotOptions& o, int epochs);
// "  sparse 31.2% of |gamma| < 0.01 (target 35.0%)" under an epoch's line while the pilot steers.
void printAutopilotEpoch(const EpochStats& s);

}  // namespace prunelab::cli
