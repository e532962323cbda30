#include "session/latency_source.h"

#include <filesystem>

#include "analysis/shape_inference.h"
#include "graph/input_shape.h"
#include "util/error.h"

namespace prunelab {

LatencyTable obtainLatencyTable(const Graph& model, const LatencyTableRequest& request) {
  Graph g = model.clone();  // timing runs the layers: the model in use stays untouched
  const Shape input = request.input.empty() ? defaultInputShape(g) : request.input;
  inferShapes(g, input);
  const DependencyGraph deps(g, request.scopes);
  if (!request.file.empty() && !request.refresh && std::filesystem::exists(request.file)) {
    LatencyTable t = readLatencyTableJson(request.file);
    checkTableMatches(t, deps, request.file);
    if (t.input != input || t.batch != request.batch)
      throw Error(request.file, "was measured at another input or batch size; delete it to measure again");
    return t;
  }
  LatencyTableOptions o;
  o.batch = request.batch;
  o.progress = request.progress;
  if (!request.command.command.empty()) o.modelTimer = latencyCommandTimer(request.command, input, request.batch);
  const auto meta = model.metadata().find("model");
  const std::string name = !request.name.empty() ? request.name : meta != model.metadata().end() ? meta->second : "";
  LatencyTable t = measureLatencyTable(g, deps, input, name, o);
  if (!request.file.empty()) writeLatencyTableJson(t, request.file);  // atomically: replaced only when complete
  return t;
}

}  // namespace prunelab
