// A sensitivity table (`prunelab-cli sensitivity --out`, read by `prune --from-sensitivity`
// and pruning/sensitivity.h), then the planner over it on a fixed ResNet-20: a hostile table
// (lying MACs, ratios, group names, metrics) must plan or give a prunelab::Error.

#include "analysis/shape_inference.h"
#include "fuzz_targets.h"
#include "models/zoo.h"
#include "pruning/sensitivity.h"

using namespace prunelab;

namespace {

struct Model {
  Graph graph = zoo::cifarResNet(20, 10, 1);  // as `sensitivity --model resnet20 --data fashion-mnist` builds it
  std::unique_ptr<DependencyGraph> deps;
  GroupScores scores;
  Model() {
    inferShapes(graph, Shape{1, 32, 32});
    deps = std::make_unique<DependencyGraph>(graph);
    ImportanceOptions io;
    io.criterion = Criterion::L1;
    scores = computeImportance(*deps, io);
  }
};

}  // namespace

int fuzz::fuzz_sensitivity(const uint8_t* data, size_t size) {
  static const Model model;
  const std::string path = fuzz::writeScratch("fuzz-sensitivity.json", fuzz::bytesOf(data, size));
  SensitivityTable t;
  if (!fuzz::parsesOrNamesFile(path, [&] { t = readSensitivityJson(path); })) return 0;
  fuzz::runOrError([&] { planFromSensitivity(t, *model.deps, model.scores, t.macs / 2, {}); });
  return 0;
}
