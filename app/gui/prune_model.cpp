#include "gui/prune_model.h"

#include <algorithm>
#include <cmath>

#include "models/yolo/yolo_yaml_widths.h"
#include "pruning/channel_edit.h"
#include "pruning/plan_log.h"
#include "util/error.h"

namespace prunelab::gui {

void PruneModel::setGraph(std::shared_ptr<const Graph> skeleton) {
  m_deps.reset();  // refers to the old graph
  m_graph = std::move(skeleton);
  m_deps = std::make_unique<DependencyGraph>(*m_graph);
  rebuildWidthFit();
  m_scores.clear();
  m_criterion.clear();
  m_plan.removed.assign(m_deps->groups().size(), {});
  m_before = estimateCost(*m_deps, m_plan);
  m_global = Global::None;
  m_percent = 0.0;
  m_threshold = -1.0;
}

void PruneModel::setScores(std::vector<std::vector<double>> scores, const std::string& criterion) {
  if (!m_deps || scores.size() != m_deps->groups().size())
    throw Error("importance", "scores do not match the model (" + std::to_string(scores.size()) + " groups)");
  m_scores = std::move(scores);
  m_criterion = criterion;
  m_constraints.scoresComparable = scoresCompareAcrossLayers(criterion);
  replanGlobal();
}

void PruneModel::setConstraints(const PlanConstraints& c, bool yamlWidths) {
  m_constraints = c;
  m_yamlWidths = yamlWidths;
  rebuildWidthFit();
  m_constraints.scoresComparable = m_criterion.empty() || scoresCompareAcrossLayers(m_criterion);
  replanGlobal();
}

void PruneModel::rebuildWidthFit() {
  const bool fit = m_yamlWidths && m_graph && !yoloYamlLayers(*m_graph).empty();
  m_constraints.fitWidths = fit ? yoloYamlWidthFit(*m_graph) : PlanWidthFit();
}

void PruneModel::replanGlobal() {
  if (m_global == Global::Percent && m_percent > 0) setGlobalPercent(m_percent);
  if (m_global == Global::Target) setTarget(m_target, m_targetParams);
}

std::vector<std::vector<double>> PruneModel::planningScores() const {
  if (hasScores()) return m_scores;
  std::vector<std::vector<double>> zeros;
  for (const Group& g : m_deps->groups()) zeros.emplace_back(static_cast<size_t>(g.size), 0.0);
  return zeros;  // before scoring: lowest channel index first
}

void PruneModel::setGlobalPercent(double percent) {
  if (!hasScores()) throw Error("prune", "no importance scores yet: choose a criterion first");
  m_percent = std::max(percent, 0.0);
  m_global = Global::Percent;
  m_threshold = -1.0;
  if (m_percent <= 0) {
    m_plan.removed.assign(m_deps->groups().size(), {});
    return;
  }
  m_plan = planGlobalPercent(*m_deps, m_scores, m_percent, m_constraints);
  m_threshold = globalPercentThreshold(*m_deps, m_scores, m_percent, m_constraints);
}

void PruneModel::setTarget(int64_t target, bool params) {
  if (!hasScores()) throw Error("prune", "no importance scores yet: choose a criterion first");
  const int64_t now = params ? m_before.params : m_before.macs;
  if (target <= 0 || target >= now)
    throw Error(params ? "params target" : "MACs target", "must be between 0 and the current " + std::to_string(now));
  m_plan = planToTarget(*m_deps, m_scores, target, params, m_constraints);
  m_global = Global::Target;
  m_target = target;
  m_targetParams = params;
  m_percent = 0.0;
  m_threshold = -1.0;
}

int PruneModel::groupOfLayer(const std::string& layer) const {
  const Node* n = m_graph ? m_graph->findNode(layer) : nullptr;
  return n ? m_deps->groupOfSource(n->id) : -1;
}

int PruneModel::prunableGroup(const std::string& layer) const {
  const int g = groupOfLayer(layer);
  if (g < 0) throw Error(layer, "is not a prunable layer");
  if (!m_deps->groups()[g].prunable())
    throw Error(layer, "has only pinned channels (graph input/output or protected)");
  return g;
}

void PruneModel::setLayerRatio(const std::string& layer, double ratio) {
  prunableGroup(layer);
  const auto scores = planningScores();
  const PrunePlan p = planRatios(*m_deps, scores, {{layer, ratio}}, 0.0, m_constraints);
  auto scored = [&](const Group& g) { return !scores[g.id].empty() && !std::isnan(scores[g.id][0]); };
  int changed = 0;
  for (const Group& g : m_deps->groups())
    if (g.prunable() && scored(g) && groupMatches(*m_deps, g, layer)) {
      m_plan.removed[g.id] = p.removed[g.id];
      ++changed;
    }
  if (changed == 0)  // planRatios leaves unscored groups alone; say why nothing happens
    throw Error(layer, "has no " + m_criterion + " scores (bn needs a BatchNorm in the layer's group): "
                           "choose another criterion to prune it");
}

int64_t PruneModel::toggleChannels(const std::string& layer, const std::vector<int64_t>& channels, bool prune) {
  const int g = prunableGroup(layer);
  const std::vector<double> scores = hasScores() ? m_scores[g] : std::vector<double>{};
  const ChannelEdit e =
      prunelab::toggleChannels(m_deps->groups()[g], scores, m_plan.removed[g], channels, prune, m_constraints);
  m_plan.removed[g] = e.removed;
  return e.rounded;
}

void PruneModel::restore(const std::vector<SurgeryLogEntry>& log) {
  const PrunePlan p = planFromLog(*m_deps, log);
  validatePlan(*m_deps, p);
  for (size_t g = 0; g < p.removed.size(); ++g)
    if (!p.removed[g].empty()) m_plan.removed[g] = p.removed[g];
}

void PruneModel::clearPlan() {
  if (m_deps) m_plan.removed.assign(m_deps->groups().size(), {});
  m_global = Global::None;
  m_percent = 0.0;
  m_threshold = -1.0;
}

std::vector<SurgeryLogEntry> PruneModel::planLog() const { return logOfPlan(*m_deps, m_plan); }

double PruneModel::highestSafePercent() const {
  if (!hasScores()) return -1.0;
  return prunelab::highestSafePercent(*m_deps, m_scores, m_constraints);
}

double PruneModel::thresholdFor(int group) const {
  if (m_threshold < 0 || group < 0 || !hasScores()) return -1.0;
  const auto div =
      rankingDivisors(*m_deps, m_scores, resolveNormalization(m_constraints, /*target=*/false));
  return m_threshold * div.at(group);
}

}  // namespace prunelab::gui
