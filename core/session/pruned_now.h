#pragma once
// "Accuracy if pruned now": what a model in the middle of sparse training would score if it
// were cut at this point - a copy cut by a global network-slimming plan (bn criterion,
// `percent` of the prunable channels) and validated with the run's task. The workbench
// draws it beside the validation curve after each epoch (SessionTrainRequest::prunedNowPercent).
//
// Threads: called on the training thread, between epochs; `graph` is not modified.

#include <memory>

#include "graph/graph.h"
#include "session/task_factory.h"
#include "train/train_task.h"

namespace prunelab {

// `percent` in (0, 1). Throws prunelab::Error when the cut is impossible (e.g. a percent
// that would empty a layer).
Metric prunedNowMetric(const Graph& graph, TrainTask& task, double percent);

}  // namespace prunelab
