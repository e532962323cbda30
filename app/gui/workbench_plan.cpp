// Workbench: the GUI-side pruning edits (global percent, cost target, a layer's ratio,
// clicked channels), selecting a layer, and refresh(): the plan shown everywhere at once
// (what-if, layer table, graph, channel bars). The planning itself is PruneModel's (core's
// planners); this file only routes the edits and presents the result. GUI thread.

#include <cmath>

#include "gui/view_convert.h"
#include "gui/workbench.h"
#include "graph/op_kind.h"
#include "ops/op_table.h"
#include "widgets/channels_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/layers_panel.h"
#include "widgets/main_window.h"
#include "widgets/network_graph_view.h"
#include "widgets/prune_panel.h"

namespace prunelab::gui {

void Workbench::setGlobalPercent(double percent) {
  if (!m_prune.hasScores()) return;
  try {
    m_prune.setGlobalPercent(percent);
    refresh();
  } catch (const std::exception& e) {
    fail("Prune", e.what());
  }
}

void Workbench::planAmount(double fraction) {
  const QString by = m_window->prunePanel()->planBy();
  if (by == "percent" || fraction <= 0) return m_prune.setGlobalPercent(fraction);
  // A cost target: remove `fraction` of the model's MACs (or params), as --target-macs/params.
  const bool params = by == "params";
  const CostEstimate now = m_prune.before();
  const double total = double(params ? now.params : now.macs);
  m_prune.setTarget(static_cast<int64_t>(std::ceil((1.0 - fraction) * total)), params);
}

void Workbench::setPlanAmount(double fraction) {
  if (!m_prune.hasScores()) return;
  try {
    planAmount(fraction);
  } catch (const std::exception& e) {
    fail("Prune", e.what());
  }
  refresh();
}

void Workbench::setLayerRatio(const QString& layer, double ratio) {
  try {
    m_prune.setLayerRatio(layer.toStdString(), ratio);
    refresh();
  } catch (const std::exception& e) {
    fail("Prune", e.what());
  }
}

void Workbench::toggleChannels(const QString& layer, const QVector<int>& channels, bool prune) {
  try {
    const int64_t rounded =
        m_prune.toggleChannels(layer.toStdString(), std::vector<int64_t>(channels.begin(), channels.end()), prune);
    if (rounded > 0)
      info(QString("%1: round-to %2 also %3 %4 %5-scored channel(s)")
               .arg(layer)
               .arg(m_prune.constraints().roundTo)
               .arg(prune ? "prunes" : "keeps")
               .arg(rounded)
               .arg(prune ? "lowest" : "highest"));
    refresh();
  } catch (const std::exception& e) {
    fail("Prune", e.what());
  }
}

void Workbench::selectLayer(const QString& layer) {
  if (!m_prune.hasGraph()) return;
  if (m_prune.groupOfLayer(layer.toStdString()) < 0) {
    // A BN, activation... selects the layer whose channels it carries.
    const Node* n = m_prune.graph().findNode(layer.toStdString());
    if (!n || n->outputs.empty()) return;
    const int g = m_prune.deps().locate(n->outputs[0], 0).first;
    if (g < 0) return;
    return selectLayer(QString::fromStdString(m_prune.deps().groups()[g].name));
  }
  m_selected = layer;
  widgets::MainWindow& w = *m_window;
  w.layersPanel()->selectLayer(layer);
  w.graphView()->selectLayer(layer);
  w.channelsPanel()->setChannels(channelScores(m_prune, layer));
  const int g = m_prune.groupOfLayer(layer.toStdString());
  QStringList bns;
  for (const Node& n : m_prune.graph().nodes())
    if (hasNormScale(n) && m_prune.deps().locate(n.outputs[0], 0).first == g)
      bns << QString::fromStdString(n.name);
  w.gammaPanel()->setSelectedLayers(bns);
}

void Workbench::refresh() {
  if (!m_prune.hasGraph()) return;
  const CostEstimate before = m_prune.before();
  const CostEstimate after = m_prune.whatIf();
  setWhatIfLatency(before, after);
  m_whatIf.channelsRemoved = m_prune.plan().removedCount();
  m_whatIf.highestSafePercent = m_prune.highestSafePercent();
  m_whatIf.floorLayers = floorLayers(m_prune);
  m_whatIf.needsScores = needsScoresHint(m_prune, m_window->prunePanel()->criterion(), m_model.latencyMs);
  widgets::MainWindow& w = *m_window;
  w.prunePanel()->setWhatIf(m_whatIf);
  w.layersPanel()->model()->updateRows(layerRows(m_prune, m_costs));
  updateNetworkView(m_prune, m_network);
  w.graphView()->updateChannels(m_network);
  if (!m_selected.isEmpty() && m_prune.groupOfLayer(m_selected.toStdString()) >= 0)
    w.channelsPanel()->setChannels(channelScores(m_prune, m_selected));
  Q_EMIT whatIfUpdated(m_whatIf);
}

}  // namespace prunelab::gui
