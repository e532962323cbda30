#include "gui/prune_model.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "util/error.h"

namespace prunelab::gui {

void PruneModel::setGraph(std::shared_ptr<const Graph> skeleton) {
  m_deps.reset();  // refers to the old graph
  m_graph = std::move(skeleton);
  m_deps = std::make_unique<DependencyGraph>(*m_graph);
  m_scores.clear();
  m_criterion.clear();
  m_plan.removed.assign(m_deps->groups().size(), {});
  m_before = estimateCost(*m_deps, m_plan);
  m_percent = 0.0;
  m_threshold = -1.0;
}

void PruneModel::setScores(std::vector<std::vector<double>> scores, const std::string& criterion) {
  if (!m_deps || scores.size() != m_deps->groups().size())
    throw Error("importance", "scores do not match the model (" + std::to_string(scores.size()) + " groups)");
  m_scores = std::move(scores);
  m_criterion = criterion;
  if (m_percent > 0) setGlobalPercent(m_percent);
}

void PruneModel::setConstraints(const PlanConstraints& c) {
  m_constraints = c;
  if (m_percent > 0) setGlobalPercent(m_percent);
}

std::vector<double> PruneModel::rankingScores(int group) const {
  std::vector<double> s = m_scores.at(group);
  if (m_criterion == "bn" || m_criterion == "random") return s;
  double sum = 0;
  int n = 0;
  for (double v : s)
    if (std::isfinite(v)) sum += v, ++n;
  const double mean = n ? sum / n : 0.0;
  if (mean > 0)
    for (double& v : s) v /= mean;
  return s;
}

void PruneModel::setGlobalPercent(double percent) {
  if (!hasScores()) throw Error("prune", "no importance scores yet: choose a criterion first");
  m_percent = std::clamp(percent, 0.0, 1.0);
  const auto& groups = m_deps->groups();
  std::vector<std::vector<double>> ranking(groups.size());
  std::vector<double> all;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].prunable()) continue;
    ranking[g] = rankingScores(static_cast<int>(g));
    for (size_t k = 0; k < ranking[g].size(); ++k)
      if (!groups[g].pinned[k] && std::isfinite(ranking[g][k])) all.push_back(ranking[g][k]);
  }
  m_plan.removed.assign(groups.size(), {});
  m_threshold = -1.0;
  if (all.empty() || m_percent <= 0) return;
  std::sort(all.begin(), all.end());
  const size_t cut = std::min(all.size() - 1, static_cast<size_t>(std::floor(m_percent * all.size())));
  m_threshold = all[cut];
  for (size_t g = 0; g < groups.size(); ++g) {
    if (ranking[g].empty()) continue;
    int64_t wanted = 0;
    for (size_t k = 0; k < ranking[g].size(); ++k)
      if (!groups[g].pinned[k] && ranking[g][k] < m_threshold) ++wanted;
    if (wanted > 0) m_plan.removed[g] = chooseChannels(groups[g], ranking[g], wanted, m_constraints);
  }
}

int PruneModel::groupOfLayer(const std::string& layer) const {
  const Node* n = m_graph ? m_graph->findNode(layer) : nullptr;
  return n ? m_deps->groupOfSource(n->id) : -1;
}

void PruneModel::setLayerRatio(const std::string& layer, double ratio) {
  const int g = groupOfLayer(layer);
  if (g < 0) throw Error(layer, "is not a prunable layer");
  const Group& group = m_deps->groups()[g];
  if (!group.prunable()) throw Error(layer, "has only pinned channels (graph input/output or protected)");
  const int64_t wanted = static_cast<int64_t>(std::floor(std::clamp(ratio, 0.0, 1.0) * group.size + 1e-9));
  std::vector<double> s = hasScores() ? m_scores[g] : std::vector<double>(group.size, 0.0);
  for (double& v : s)
    if (!std::isfinite(v)) v = 0.0;  // e.g. bn on a group without BN: lowest index first
  m_plan.removed[g] = wanted > 0 ? chooseChannels(group, s, wanted, m_constraints) : std::vector<int64_t>{};
}

void PruneModel::toggleChannels(const std::string& layer, const std::vector<int64_t>& channels, bool prune) {
  const int g = groupOfLayer(layer);
  if (g < 0) throw Error(layer, "is not a prunable layer");
  const Group& group = m_deps->groups()[g];
  std::set<int64_t> removed(m_plan.removed[g].begin(), m_plan.removed[g].end());
  const int64_t minKeep = std::max<int64_t>(1, m_constraints.minChannels);
  for (int64_t c : channels) {
    if (c < 0 || c >= group.size || group.pinned[c]) continue;
    if (!prune) {
      removed.erase(c);
    } else if (group.size - static_cast<int64_t>(removed.size()) > minKeep) {
      removed.insert(c);
    }
  }
  m_plan.removed[g].assign(removed.begin(), removed.end());
}

void PruneModel::clearPlan() {
  if (m_deps) m_plan.removed.assign(m_deps->groups().size(), {});
  m_percent = 0.0;
  m_threshold = -1.0;
}

std::vector<SurgeryLogEntry> PruneModel::planLog() const {
  std::vector<SurgeryLogEntry> log;
  const auto& groups = m_deps->groups();
  for (size_t g = 0; g < groups.size(); ++g)
    if (!m_plan.removed[g].empty()) log.push_back({groups[g].name, m_plan.removed[g]});
  return log;
}

double PruneModel::highestSafePercent() const {
  if (!hasScores()) return -1.0;
  std::vector<std::vector<double>> ranking(m_scores.size());
  for (size_t g = 0; g < m_scores.size(); ++g) ranking[g] = rankingScores(static_cast<int>(g));
  return prunelab::highestSafePercent(*m_deps, ranking);
}

double PruneModel::thresholdFor(int group) const {
  if (m_threshold < 0 || group < 0) return -1.0;
  if (m_criterion == "bn" || m_criterion == "random") return m_threshold;
  double sum = 0;
  int n = 0;
  for (double v : m_scores.at(group))
    if (std::isfinite(v)) sum += v, ++n;
  return n ? m_threshold * sum / n : -1.0;
}

}  // namespace prunelab::gui
