#pragma once
// Core -> panel values: builds the widgets' plain structs (widgets/view_model.h) from a
// graph skeleton, its dependency analysis, the plan and the scores. GUI thread; reads
// only structure and shapes.

#include <QVector>

#include "graph/graph.h"
#include "gui/prune_model.h"
#include "pruning/sensitivity.h"
#include "session/train_recipe.h"
#include "train/bn_stats.h"
#include "train/train_observer.h"
#include "widgets/sensitivity_panel.h"
#include "widgets/train_panel.h"
#include "widgets/view_model.h"

namespace prunelab::gui {

// Per-node MACs of a graph, computed once per model (channel edits only scale them).
struct NodeCosts {
  std::vector<int64_t> macs;  // by node id
  int64_t totalMacs = 0;
};
NodeCosts nodeCosts(const Graph& graph);

widgets::NetworkView networkView(const PruneModel& model, const NodeCosts& costs);
// Cheaper than networkView(): same nodes, new kept/importance only.
void updateNetworkView(const PruneModel& model, widgets::NetworkView& view);
QVector<widgets::LayerRow> layerRows(const PruneModel& model, const NodeCosts& costs);
// The layers the plan cuts down to the fewest channels the constraints allow.
QStringList floorLayers(const PruneModel& model);
// What the what-if says while `criterion` has no scores yet ("" once scored): data-free
// criteria are being scored, data criteria need Score (timed from `latencyMs`, < 0: unknown).
QString needsScoresHint(const PruneModel& model, const QString& criterion, double latencyMs);
widgets::ChannelScores channelScores(const PruneModel& model, const QString& layer);

widgets::GammaFrame gammaFrame(const GammaSnapshot& snapshot);
widgets::StepPoint stepPoint(const StepStats& s, int epochs);
widgets::EpochPoint epochPoint(const EpochStats& e);
widgets::SensitivityView sensitivityView(const SensitivityTable& t);

// The Train panel's request <-> core's training settings (session/train_recipe.h). The
// panel's autopilot box maps to autopilot.target > 0; runDir is the caller's.
TrainSettings trainSettings(const widgets::TrainRequest& r);
widgets::TrainRequest trainRequest(const TrainSettings& s);

}  // namespace prunelab::gui
