#include "pruning/plan_log.h"

namespace prunelab {

std::vector<SurgeryLogEntry> logOfPlan(const DependencyGraph& deps, const PrunePlan& plan) {
  std::vector<SurgeryLogEntry> log;
  for (size_t g = 0; g < plan.removed.size(); ++g) {
    if (plan.removed[g].empty()) continue;
    const Group& group = deps.groups()[g];
    const Node& source = deps.graph().node(group.sources.front());
    const ValueId v = source.outputs[0];
    SurgeryLogEntry e;
    e.source = source.name;
    std::vector<bool> removed(static_cast<size_t>(group.size), false);
    for (int64_t k : plan.removed[g]) removed[k] = true;
    for (int64_t c = 0; c < deps.channelCount(v); ++c) {
      const auto [gg, k] = deps.locate(v, c);
      if (gg == static_cast<int>(g) && removed[k]) e.channels.push_back(c);
    }
    log.push_back(std::move(e));
  }
  return log;
}

}  // namespace prunelab
