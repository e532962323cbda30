#include "session/pruned_now.h"

#include "graph/input_shape.h"
#include "pruning/pruner.h"

namespace prunelab {

Metric prunedNowMetric(const Graph& graph, TrainTask& task, double percent) {
  PruneRequest r;
  r.mode = PruneRequest::Mode::GlobalPercent;
  r.amount = percent;
  r.importance.criterion = Criterion::BnScale;
  r.inputShape = defaultInputShape(graph);
  r.surgery.forwardCheck = false;  // validation runs it right after
  auto pruned = std::make_shared<Graph>(runPruning(graph, r).graph);
  return validateModel(pruned, task);
}

}  // namespace prunelab
