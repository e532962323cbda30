#pragma once
// A PrunePlan as the replayable log surgery writes (SurgeryLogEntry: the group's first
// source and the removed channels *of that source's output*), e.g. for the workbench to
// send its plan to the worker or save it in a project; planFromLog() reads it back.
//
// Group channel k and output channel k differ where a source's output holds several
// groups: YOLO's C2f `cv1` output is split in two halves, one of them tied to the
// bottleneck's residual Add, so both halves are groups named after `cv1` and the second
// half's channel k is cv1's output channel k + c/2.

#include <cstdint>
#include <string>
#include <vector>

#include "pruning/dependency_graph.h"
#include "pruning/prune_plan.h"

namespace prunelab {

// One replayable cut: by source scope, channel indices of that source's output.
struct SurgeryLogEntry {
  std::string source;               // name of the group's first source node
  std::vector<int64_t> channels;    // its output channels removed
};

// The entries applySurgery(deps, plan).log lists, in the same order, without cutting
// (applySurgery writes its log with this).
std::vector<SurgeryLogEntry> logOfPlan(const DependencyGraph& deps, const PrunePlan& plan);

// Rebuilds a plan from a log (e.g. recorded on another copy of the model). Throws
// prunelab::Error naming the layer when the log does not fit `deps`' model.
PrunePlan planFromLog(const DependencyGraph& deps, const std::vector<SurgeryLogEntry>& log);

// The one JSON form of a log, for checkpoints (`surgery_log` of a pruned .plm) and
// project files: [{"source": "layer1.0.conv1", "channels": [3, 17]}, ...].
std::string surgeryLogJson(const std::vector<SurgeryLogEntry>& log);
// Reads it back; errors name `what` (the file) and the problem.
std::vector<SurgeryLogEntry> surgeryLogFromJson(const std::string& text, const std::string& what);

}  // namespace prunelab
