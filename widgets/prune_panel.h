#pragma once
// PrunePanel: how to prune and what it would cost. Every control change is emitted at
// once; the owner recomputes the plan and calls setWhatIf() (params, MACs, size and
// estimated latency, before -> after) - nothing is cut until Apply.
// The slider is one amount read by "Plan by": the fraction of all channels to remove
// (global percent), or the fraction of MACs or of params to remove (a cost target).
// "Rank layers" is the planners' score normalisation (auto, none, mean), as
// `prunelab-cli prune --normalize`, with the same default (auto).
// Thread: GUI thread.

#include <QWidget>

#include "widgets/view_model.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace prunelab::widgets {

class PrunePanel : public QWidget {
  Q_OBJECT
 public:
  explicit PrunePanel(QWidget* parent = nullptr);

  QString criterion() const;
  void setCriterion(const QString& name);
  // The criteria the menu offers, in order (the application passes core's list); the
  // current one is kept when it is still offered. Emits nothing.
  void setCriteria(const QStringList& names);
  double percent() const;            // 0..1
  void setPercent(double fraction);  // emits percentChanged when it changes
  QString planBy() const;         // "percent", "macs" or "params"
  void setPlanBy(const QString& planBy);  // emits planByChanged when it changes
  int roundTo() const;
  int minChannels() const;
  // A saved project's settings, set without re-planning (the project brings its own plan):
  // round-to, minimum, ranking and the YAML-widths box, then one constraintsChanged.
  void restoreSettings(int roundTo, int minChannels, const QString& normalization, bool yamlWidths);
  void showPercent(double fraction);  // the slider and box only: nothing is planned
  QString normalization() const;  // "auto", "none" or "mean"
  void setNormalization(const QString& n);  // emits constraintsChanged when it changes
  // Keep to widths the model's YOLO YAML can state (prunelab-cli prune --yaml-widths); the
  // box is shown for models built from one (setYamlWidthsAvailable).
  bool yamlWidths() const;
  void setYamlWidthsAvailable(bool available);
  bool foldBeta() const;
  // Refit the layers after the cut by least squares on calibration batches (prune --reconstruct).
  bool reconstruct() const;
  void setReconstruct(bool on);

  void setWhatIf(const WhatIf& w);
  void setUndoRedo(bool canUndo, bool canRedo);
  void setBusy(bool busy);
  QLabel* afterLabel(int row) const { return m_after[row]; }  // 0 params, 1 MACs, 2 size, 3 latency

 Q_SIGNALS:
  void criterionChosen(const QString& criterion);  // re-score
  void percentChanged(double fraction);
  void planByChanged(const QString& planBy);
  void constraintsChanged(int roundTo, int minChannels, const QString& normalization, bool yamlWidths);
  void applyRequested(bool foldBeta);
  void resetRequested();
  void undoRequested();
  void redoRequested();
  void latencyTableRequested();  // "Measure latency": time the layers for the what-if

 private:
  void configureControls();
  QFormLayout* buildSettingsForm();
  QGroupBox* buildWhatIfBox();
  void buildLayout();
  void connectControls();

  QComboBox* m_criterion;
  QPushButton* m_score;
  QComboBox* m_planBy;
  QSlider* m_slider;
  QDoubleSpinBox* m_spin;
  QSpinBox* m_roundTo;
  QSpinBox* m_minChannels;
  QComboBox* m_normalize;
  QCheckBox* m_yamlWidths;
  QCheckBox* m_fold;
  QCheckBox* m_refit;
  QLabel* m_before[4];
  QLabel* m_after[4];
  QLabel* m_change[4];
  QLabel* m_safe;
  QLabel* m_removed;
  QPushButton* m_apply;
  QPushButton* m_reset;
  QPushButton* m_undo;
  QPushButton* m_redo;
  QPushButton* m_measureLatency;
  bool m_syncing = false;
};

}  // namespace prunelab::widgets
