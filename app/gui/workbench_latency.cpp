// The Prune panel's latency side of the Workbench: "Measure latency" asks the worker for a
// per-layer latency table of the current model (pruning/latency_table.h), and the what-if
// predicts the after-latency from it while it belongs to the model being planned.

#include "gui/workbench.h"
#include "gui/workbench_post.h"
#include "util/error.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"

namespace prunelab::gui {

namespace {
widgets::CostTotals totalsOf(const CostEstimate& c, double latencyMs) {
  return {c.params, c.macs, c.sizeBytes, latencyMs};
}
}  // namespace

void Workbench::wireLatencyTable() {
  connect(m_window->prunePanel(), &widgets::PrunePanel::latencyTableRequested, this, [this] {
    if (!m_prune.hasGraph()) return fail("Latency table", "open a model first");
    post([w = m_worker] { w->latencyTable(); });
  });
  connect(m_worker, &Worker::latencyTableReady, this, [this](const std::shared_ptr<const LatencyTable>& table) {
    m_latencyTable = table;
    refresh();
  });
}

void Workbench::setWhatIfLatency(const CostEstimate& before, const CostEstimate& after) {
  m_whatIf.before = totalsOf(before, m_model.latencyMs);
  // The table identifies its model by MACs: `before` is this model's, already counted.
  if (m_latencyTable && m_latencyTable->macs != before.macs) m_latencyTable.reset();  // a cut, an undo, a new file
  if (m_latencyTable) {
    try {
      // Both ends from the table (its whole-model measurement before), so that the change
      // is the table's own ratio.
      m_whatIf.after = totalsOf(after, predictLatencyMs(*m_latencyTable, m_prune.deps(), m_prune.plan()));
      m_whatIf.before.latencyMs = m_latencyTable->totalMs;
      m_whatIf.after.latencyFromTable = true;
      return;
    } catch (const Error&) {
      m_latencyTable.reset();  // same MACs, other layers: not this model's table
    }
  }
  // The measured latency scaled by the MACs kept (Compare measures the cut model). With
  // nothing planned the "after" model is the measured one.
  const double est =
      m_model.latencyMs > 0 && before.macs > 0 ? m_model.latencyMs * double(after.macs) / double(before.macs) : -1;
  m_whatIf.after = totalsOf(after, est);
  m_whatIf.after.latencyEstimated = est >= 0 && after.macs != before.macs;
}

}  // namespace prunelab::gui
