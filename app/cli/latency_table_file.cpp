#include "cli/latency_table_file.h"

#include <filesystem>

#include "cli/progress_line.h"
#include "util/error.h"

namespace prunelab::cli {

LatencyTable measureWithProgress(const Graph& graph, const DependencyGraph& deps, const Shape& input,
                                 const std::string& modelName, int batch, bool quiet) {
  ProgressLine progress(quiet);
  progress.start("latency table");
  LatencyTableOptions o;
  o.batch = batch;
  o.progress = [&progress](int done, int total, const std::string&) { progress.update(done, total, 0); };
  LatencyTable t = measureLatencyTable(graph, deps, input, modelName, o);
  progress.finish();
  return t;
}

LatencyTable obtainLatencyTable(const LatencyTableSource& source, const Graph& graph, const DependencyGraph& deps,
                                const Shape& input, const std::string& modelName) {
  if (!source.path.empty() && std::filesystem::exists(source.path)) {
    LatencyTable t = readLatencyTableJson(source.path);
    checkTableMatches(t, deps, source.path);
    if (t.input != input || t.batch != source.batch)
      throw Error(source.path, "was measured at another input or batch size; delete it to measure again");
    return t;
  }
  LatencyTable t = measureWithProgress(graph, deps, input, modelName, source.batch, source.quiet);
  if (!source.path.empty()) writeLatencyTableJson(t, source.path);
  return t;
}

}  // namespace prunelab::cli
