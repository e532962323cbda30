#pragma once
// The GUI thread's model of a pruning decision being edited: a skeleton of the current
// graph (Graph::skeleton(), no tensor data), its dependency analysis, the importance
// scores the worker computed, and the plan. Every edit (global percent, cost target, a
// layer's ratio, toggled channels) changes the plan; whatIf() then estimates
// params/MACs/size arithmetically (pruning/prune_plan.h), in well under a millisecond
// per group, so the panels can show the consequence of every slider move before
// anything is cut.
//
// No planning happens here: every edit calls core's planners (pruning/planner.h) or
// core's channel edit (pruning/channel_edit.h) with the same scores and PlanConstraints
// (minimum, round-to, score normalisation) that `prunelab-cli prune` passes, so the
// workbench and the CLI make the same plan for the same model and settings.
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

  // scores[g][k] as computed by the worker on the same structure (computeImportance).
  // A global percent or target in force is planned again with them.
  void setScores(std::vector<std::vector<double>> scores, const std::string& criterion);
  bool hasScores() const { return !m_scores.empty(); }
  const std::string& criterion() const { return m_criterion; }
  const std::vector<std::vector<double>>& scores() const { return m_scores; }

  // Also plans a global percent or target in force again. With `yamlWidths` every plan keeps
  // to widths the model's YOLO YAML can state (models/yolo/yolo_yaml_widths.h, as
  // prunelab-cli prune --yaml-widths), for every model opened while it is on that has one.
  void setConstraints(const PlanConstraints& c, bool yamlWidths = false);
  const PlanConstraints& constraints() const { return m_constraints; }

  // Edits. Each replaces the affected groups' removed channels; unknown layers and
  // impossible requests throw prunelab::Error (for the log panel).
  void setGlobalPercent(double percent);             // planGlobalPercent; 0 clears the plan
  void setTarget(int64_t target, bool params);       // planToTarget: MACs (or params) <= target
  // planRatios with this layer as the only pattern: every group the layer is a source of
  // (two for YOLO's C2f cv1) gets the ratio, as a --ratios file entry would give it.
  void setLayerRatio(const std::string& layer, double ratio);
  // A click on channel bars (pruning/channel_edit.h: the kept count stays one the planner
  // allows). Returns how many channels beyond the clicked ones changed for round-to.
  int64_t toggleChannels(const std::string& layer, const std::vector<int64_t>& channels, bool prune);
  // Replays a log exactly (a saved project, a hand plan kept over re-scoring): the groups
  // it names get its channels, others keep theirs. Throws if it does not fit the model.
  void restore(const std::vector<SurgeryLogEntry>& log);
  void clearPlan();

  double globalPercent() const { return m_percent; }
  const PrunePlan& plan() const { return m_plan; }
  // The plan as the log surgery would write (pruning/plan_log.h): what the worker replays.
  std::vector<SurgeryLogEntry> planLog() const;

  CostEstimate before() const { return m_before; }
  CostEstimate whatIf() const { return estimateCost(*m_deps, m_plan); }
  double highestSafePercent() const;  // -1 without scores
  // The global percent's threshold in group g's score units (-1 when no global percent is set).
  double thresholdFor(int group) const;

  int groupOfLayer(const std::string& layer) const;  // -1 when it creates no group

 private:
  enum class Global { None, Percent, Target };  // the plan-wide edit in force
  void replanGlobal();
  void rebuildWidthFit();  // m_constraints.fitWidths for the current graph
  int prunableGroup(const std::string& layer) const;  // throws unless the layer's group is prunable
  std::vector<std::vector<double>> planningScores() const;  // the scores, or zeros before scoring

  std::shared_ptr<const Graph> m_graph;
  std::unique_ptr<DependencyGraph> m_deps;
  std::vector<std::vector<double>> m_scores;
  std::string m_criterion;
  PlanConstraints m_constraints;
  bool m_yamlWidths = false;
  PrunePlan m_plan;
  CostEstimate m_before;
  Global m_global = Global::None;
  double m_percent = 0.0;
  int64_t m_target = 0;
  bool m_targetParams = false;
  double m_threshold = -1.0;  // in ranking units (planner.h: rankingDivisors)
};

}  // namespace prunelab::gui
