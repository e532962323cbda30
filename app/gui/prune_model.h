#pragma once
// The GUI thread's model of a pruning decision being edited: a skeleton of the current
// graph (Graph::skeleton(), no tensor data), its dependency analysis, the importance
// scores the worker computed, and the plan. Every edit (global percent, a layer's ratio,
// toggled channels) changes the plan; whatIf() then estimates params/MACs/size
// arithmetically (pruning/prune_plan.h), in well under a millisecond per group, so the
// panels can show the consequence of every slider move before anything is cut.
//
// Thread: GUI thread only. Owns its skeleton; never sees the worker's tensors.

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "pruning/dependency_graph.h"
#include "pruning/planner.h"
#include "pruning/prune_plan.h"
#include "pruning/surgery.h"

namespace prunelab::gui {

class PruneModel {
 public:
  // A new model: the analysis is rebuilt; scores and plan are cleared.
  void setGraph(std::shared_ptr<const Graph> skeleton);
  bool hasGraph() const { return m_deps != nullptr; }
  const Graph& graph() const { return *m_graph; }
  const DependencyGraph& deps() const { return *m_deps; }

  // scores[g][k] as computed by the worker on the same structure. `bnLike`: the scores
  // are comparable across layers (BN |gamma|); otherwise the global percent ranks
  // per-group normalised scores (score / group mean), as the MACs-target planner does.
  void setScores(std::vector<std::vector<double>> scores, const std::string& criterion);
  bool hasScores() const { return !m_scores.empty(); }
  const std::string& criterion() const { return m_criterion; }
  const std::vector<std::vector<double>>& scores() const { return m_scores; }

  void setConstraints(const PlanConstraints& c);
  const PlanConstraints& constraints() const { return m_constraints; }

  // Edits. Each replaces the affected groups' removed channels; unknown layers throw.
  void setGlobalPercent(double percent);  // 0..1 of all prunable channels, lowest first
  void setLayerRatio(const std::string& layer, double ratio);
  void toggleChannels(const std::string& layer, const std::vector<int64_t>& channels, bool prune);
  void clearPlan();

  double globalPercent() const { return m_percent; }
  const PrunePlan& plan() const { return m_plan; }
  // The plan as a replayable log keyed by source name (what the worker's surgery takes).
  std::vector<SurgeryLogEntry> planLog() const;

  CostEstimate before() const { return m_before; }
  CostEstimate whatIf() const { return estimateCost(*m_deps, m_plan); }
  double highestSafePercent() const;  // -1 without scores
  // The global threshold in group g's score units (-1 when no global percent is set).
  double thresholdFor(int group) const;

  int groupOfLayer(const std::string& layer) const;  // -1 when it creates no group

 private:
  std::vector<double> rankingScores(int group) const;  // what the global percent ranks

  std::shared_ptr<const Graph> m_graph;
  std::unique_ptr<DependencyGraph> m_deps;
  std::vector<std::vector<double>> m_scores;
  std::string m_criterion;
  PlanConstraints m_constraints;
  PrunePlan m_plan;
  CostEstimate m_before;
  double m_percent = 0.0;
  double m_threshold = -1.0;  // in ranking-score units
};

}  // namespace prunelab::gui
