#pragma once
// The data and task options of the commands that read a dataset (train, eval, prune
// --calib): what --data names, subsets, and the detection settings. They only translate
// arguments into core's DataSpec and TaskSettings; every default lives in core/session.

#include "cli/arg_parser.h"
#include "session/dataset_spec.h"
#include "session/task_factory.h"

namespace prunelab::cli {

// --data, --task, --train-limit, --val-limit, --seed and the detection settings.
void addDataOptions(ArgParser& p);

DataSpec dataSpec(const ArgParser& p);
TaskSettings taskSettings(const ArgParser& p);

}  // namespace prunelab::cli
