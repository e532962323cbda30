#pragma once
// A PrunePlan as the replayable log surgery writes (SurgeryLogEntry: the group's first
// source and the removed channels *of that source's output*), e.g. for the workbench to
// send its plan to the worker or save it in a project; planFromLog() reads it back.
//
// Group channel k and output channel k differ where a source's output holds several
// groups: YOLO's C2f `cv1` output is split in two halves, one of them tied to the
// bottleneck's residual Add, so both halves are groups named after `cv1` and the second
// half's channel k is cv1's output channel k + c/2.

#include <vector>

#include "pruning/dependency_graph.h"
#include "pruning/prune_plan.h"
#include "pruning/surgery.h"

namespace prunelab {

// The entries applySurgery(deps, plan).log lists, in the same order, without cutting.
std::vector<SurgeryLogEntry> logOfPlan(const DependencyGraph& deps, const PrunePlan& plan);

}  // namespace prunelab
