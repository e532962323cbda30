// The Sensitivity dock's side of the Workbench: its wiring, the sweep it asks the worker
// for, and Cancel (workbench.h says what these do).

#include "gui/workbench.h"
#include "gui/workbench_post.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"
#include "widgets/sensitivity_panel.h"

namespace prunelab::gui {

void Workbench::wireSensitivity() {
  widgets::SensitivityPanel* sens = m_window->sensitivityPanel();
  connect(sens, &widgets::SensitivityPanel::sweepRequested, this, &Workbench::sweepSensitivity);
  connect(sens, &widgets::SensitivityPanel::cancelRequested, this, &Workbench::cancelSensitivity);
  // A row key "layer#2" is the layer's second group (pruning/sensitivity.h); a layer ratio
  // applies to every group the layer is a source of.
  connect(sens, &widgets::SensitivityPanel::cellChosen, this, [this](const QString& group, double ratio) {
    setLayerRatio(group.section('#', 0, 0), ratio);
  });
  connect(m_worker, &Worker::sensitivityProgress, sens, &widgets::SensitivityPanel::setProgress);
  connect(m_worker, &Worker::sensitivityReady, sens, &widgets::SensitivityPanel::setTable);
  connect(m_worker, &Worker::busy, sens, [sens](const QString& task) { sens->setBusy(task == "Sensitivity"); });
}

void Workbench::sweepSensitivity(const QVector<double>& ratios, int valImages) {
  if (!m_hasData) return fail("Sensitivity", "open a dataset first: each cut is evaluated on its validation split");
  m_sensitivityCancel = std::make_shared<std::atomic<bool>>(false);
  const QString criterion = m_window->prunePanel()->criterion();
  post([w = m_worker, ratios, valImages, criterion, cancel = m_sensitivityCancel] {
    w->sweepSensitivity(ratios, valImages, criterion, cancel);
  });
}

void Workbench::cancelSensitivity() {
  if (m_sensitivityCancel) m_sensitivityCancel->store(true);
}

}  // namespace prunelab::gui
