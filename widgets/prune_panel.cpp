#include "widgets/prune_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>

#include "widgets/format.h"
#include "widgets/palette.h"

namespace prunelab::widgets {

PrunePanel::PrunePanel(QWidget* parent)
    : QWidget(parent), m_criterion(new QComboBox(this)), m_score(new QPushButton("Score", this)),
      m_planBy(new QComboBox(this)), m_slider(new QSlider(Qt::Horizontal, this)), m_spin(new QDoubleSpinBox(this)), m_roundTo(new QSpinBox(this)),
      m_minChannels(new QSpinBox(this)), m_normalize(new QComboBox(this)),
      m_yamlWidths(new QCheckBox("widths the model's YAML can state", this)), m_fold(new QCheckBox("fold removed channels' β into the next layer (where exact)", this)),
      m_refit(new QCheckBox("refit the next layers by least squares (reconstruct)", this)),
      m_safe(new QLabel(this)), m_removed(new QLabel(this)), m_apply(new QPushButton("Apply", this)),
      m_reset(new QPushButton("Clear plan", this)), m_undo(new QPushButton("Undo", this)),
      m_redo(new QPushButton("Redo", this)), m_measureLatency(new QPushButton("Measure latency", this)) {
  configureControls();
  buildLayout();
  connectControls();
  setUndoRedo(false, false);
}

// Choices, ranges and tooltips of the planning controls.
void PrunePanel::configureControls() {
  // The criteria come from the application (core's list): setCriteria().
  m_criterion->setToolTip("bn: |gamma| (Network Slimming); l1/l2: weight norms; activation, taylor and "
                          "reconstruction use calibration batches from the open dataset; random: baseline");
  m_score->setToolTip("Compute channel importance with this criterion");
  m_planBy->addItem("% of channels (global threshold)", "percent");
  m_planBy->addItem("% of MACs (target)", "macs");
  m_planBy->addItem("% of params (target)", "params");
  m_planBy->setToolTip("What the amount removes: channels below one global score threshold, or the "
                       "least important channels until MACs or params drop by that much");
  m_slider->setRange(0, 950);
  m_spin->setRange(0, 95);
  m_spin->setDecimals(1);
  m_spin->setSuffix(" %");
  m_roundTo->setRange(1, 64);
  m_roundTo->setToolTip("Keep a multiple of N channels per layer (hardware-friendly widths)");
  m_minChannels->setRange(1, 1024);
  m_minChannels->setToolTip("Never keep fewer channels than this in a layer");
  m_normalize->addItem("auto", "auto");
  m_normalize->addItem("raw scores", "none");
  m_normalize->addItem("score / layer mean", "mean");
  m_normalize->setToolTip("How channels of different layers are ranked against each other (prunelab-cli "
                          "--normalize): auto ranks raw scores for a percent and scores divided by their "
                          "layer's mean for a MACs/params target");
  m_yamlWidths->setToolTip("Keep module outputs in multiples of 8 and hidden widths as their e implies, so that "
                           "yolov5's train.py --weights and ultralytics' trainer, which rebuild the model from its "
                           "yaml, load every pruned tensor (prunelab-cli prune --yaml-widths)");
  m_yamlWidths->setVisible(false);
  m_fold->setChecked(true);
  m_refit->setToolTip("After the cut, solve for the weights of every layer that lost inputs so that its output "
                      "matches the unpruned model's on calibration batches of the open dataset (He et al. 2017; "
                      "prunelab-cli prune --reconstruct)");
  m_apply->setToolTip("Cut the planned channels (dependency-aware surgery, forward-checked)");
  m_measureLatency->setToolTip("Time every Conv/Linear on this machine at a grid of widths (prunelab-cli "
                               "latency-table): the after-latency is then predicted from these measurements "
                               "instead of scaled by MACs");
}

// Criterion, Plan by, the amount and the planners' constraints.
QFormLayout* PrunePanel::buildSettingsForm() {
  auto* crit = new QHBoxLayout;
  crit->addWidget(m_criterion, 1);
  crit->addWidget(m_score);
  auto* pct = new QHBoxLayout;
  pct->addWidget(m_slider, 1);
  pct->addWidget(m_spin);
  auto* form = new QFormLayout;
  form->addRow("Criterion", crit);
  form->addRow("Plan by", m_planBy);
  form->addRow("Remove", pct);
  form->addRow("", m_safe);
  form->addRow("Round to", m_roundTo);
  form->addRow("Min channels", m_minChannels);
  form->addRow("Rank layers", m_normalize);
  form->addRow("", m_yamlWidths);
  form->addRow("", m_fold);
  form->addRow("", m_refit);
  return form;
}

// Params, MACs, size and latency before -> after, what the plan removes, Measure latency.
QGroupBox* PrunePanel::buildWhatIfBox() {
  auto* box = new QGroupBox("What if", this);
  auto* grid = new QGridLayout(box);
  const char* rows[] = {"Params", "MACs", "Size", "Latency (b1)"};
  grid->addWidget(new QLabel("<b>before</b>"), 0, 1, Qt::AlignRight);
  grid->addWidget(new QLabel("<b>after</b>"), 0, 2, Qt::AlignRight);
  grid->addWidget(new QLabel("<b>change</b>"), 0, 3, Qt::AlignRight);
  for (int i = 0; i < 4; ++i) {
    grid->addWidget(new QLabel(rows[i]), i + 1, 0);
    m_before[i] = new QLabel("-", box);
    m_after[i] = new QLabel("-", box);
    m_change[i] = new QLabel("-", box);
    grid->addWidget(m_before[i], i + 1, 1, Qt::AlignRight);
    grid->addWidget(m_after[i], i + 1, 2, Qt::AlignRight);
    grid->addWidget(m_change[i], i + 1, 3, Qt::AlignRight);
  }
  grid->addWidget(m_removed, 5, 0, 1, 3);
  grid->addWidget(m_measureLatency, 5, 3, Qt::AlignRight);
  return box;
}

// The settings, the what-if and the Apply/Clear/Undo/Redo row, top to bottom.
void PrunePanel::buildLayout() {
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_apply);
  buttons->addWidget(m_reset);
  buttons->addWidget(m_undo);
  buttons->addWidget(m_redo);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(buildSettingsForm());
  layout->addWidget(buildWhatIfBox());
  layout->addLayout(buttons);
  layout->addStretch(1);
}

// Every setting is emitted at once: the owner re-plans and calls setWhatIf().
void PrunePanel::connectControls() {
  connect(m_score, &QPushButton::clicked, this, [this] { Q_EMIT criterionChosen(criterion()); });
  connect(m_criterion, &QComboBox::activated, this, [this] { Q_EMIT criterionChosen(criterion()); });
  connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
    if (!m_syncing) setPercent(v / 1000.0);
  });
  connect(m_spin, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (!m_syncing) setPercent(v / 100.0);
  });
  auto constraints = [this] { Q_EMIT constraintsChanged(roundTo(), minChannels(), normalization(), yamlWidths()); };
  connect(m_roundTo, &QSpinBox::valueChanged, this, constraints);
  connect(m_minChannels, &QSpinBox::valueChanged, this, constraints);
  connect(m_normalize, &QComboBox::currentIndexChanged, this, constraints);
  connect(m_yamlWidths, &QCheckBox::toggled, this, constraints);
  connect(m_planBy, &QComboBox::currentIndexChanged, this, [this] { Q_EMIT planByChanged(planBy()); });
  connect(m_apply, &QPushButton::clicked, this, [this] { Q_EMIT applyRequested(foldBeta()); });
  connect(m_reset, &QPushButton::clicked, this, &PrunePanel::resetRequested);
  connect(m_undo, &QPushButton::clicked, this, &PrunePanel::undoRequested);
  connect(m_redo, &QPushButton::clicked, this, &PrunePanel::redoRequested);
  connect(m_measureLatency, &QPushButton::clicked, this, &PrunePanel::latencyTableRequested);
}

QString PrunePanel::criterion() const { return m_criterion->currentText(); }
void PrunePanel::setCriterion(const QString& name) { m_criterion->setCurrentText(name); }
void PrunePanel::setCriteria(const QStringList& names) {
  const QString current = m_criterion->currentText();
  const QSignalBlocker block(m_criterion);
  m_criterion->clear();
  m_criterion->addItems(names);
  if (names.contains(current)) m_criterion->setCurrentText(current);
}
double PrunePanel::percent() const { return m_spin->value() / 100.0; }
QString PrunePanel::planBy() const { return m_planBy->currentData().toString(); }
int PrunePanel::roundTo() const { return m_roundTo->value(); }
bool PrunePanel::yamlWidths() const { return !m_yamlWidths->isHidden() && m_yamlWidths->isChecked(); }
void PrunePanel::setYamlWidthsAvailable(bool available) {
  m_yamlWidths->setVisible(available);
  if (!available) m_yamlWidths->setChecked(false);
}
int PrunePanel::minChannels() const { return m_minChannels->value(); }
QString PrunePanel::normalization() const { return m_normalize->currentData().toString(); }
void PrunePanel::setPlanBy(const QString& planBy) { m_planBy->setCurrentIndex(std::max(0, m_planBy->findData(planBy))); }
void PrunePanel::setNormalization(const QString& n) { m_normalize->setCurrentIndex(std::max(0, m_normalize->findData(n))); }
bool PrunePanel::foldBeta() const { return m_fold->isChecked(); }
bool PrunePanel::reconstruct() const { return m_refit->isChecked(); }
void PrunePanel::setReconstruct(bool on) { m_refit->setChecked(on); }

void PrunePanel::restoreSettings(int roundTo, int minChannels, const QString& normalization, bool yamlWidths) {
  {
    const QSignalBlocker a(m_roundTo), b(m_minChannels), c(m_normalize), d(m_yamlWidths);
    m_roundTo->setValue(roundTo);
    m_minChannels->setValue(minChannels);
    m_normalize->setCurrentIndex(std::max(0, m_normalize->findData(normalization)));
    m_yamlWidths->setChecked(yamlWidths);
  }
  Q_EMIT constraintsChanged(this->roundTo(), this->minChannels(), this->normalization(), yamlWidths);
}

void PrunePanel::showPercent(double fraction) {
  m_syncing = true;
  m_slider->setValue(static_cast<int>(std::lround(std::clamp(fraction, 0.0, 0.95) * 1000)));
  m_spin->setValue(std::clamp(fraction, 0.0, 0.95) * 100.0);
  m_syncing = false;
}

void PrunePanel::setPercent(double fraction) {
  fraction = std::clamp(fraction, 0.0, 0.95);
  const bool changed = std::abs(fraction - percent()) > 1e-9;
  m_syncing = true;
  m_slider->setValue(static_cast<int>(std::lround(fraction * 1000)));
  m_spin->setValue(fraction * 100.0);
  m_syncing = false;
  if (changed) Q_EMIT percentChanged(fraction);
}

void PrunePanel::setWhatIf(const WhatIf& w) {
  const double b[4] = {double(w.before.params), double(w.before.macs), double(w.before.sizeBytes), w.before.latencyMs};
  const double a[4] = {double(w.after.params), double(w.after.macs), double(w.after.sizeBytes), w.after.latencyMs};
  for (int i = 0; i < 4; ++i) {
    // Latency says where it comes from: a measurement on this machine, or the measured
    // latency scaled by the MACs kept (the cut model is not run until Compare).
    auto text = [i](double v, const CostTotals& t) {
      if (v < 0) return QString("-");
      if (i == 2) return formatBytes(v);
      if (i == 3)
        return QString::number(v, 'f', 2) +
               (t.latencyFromTable ? " ms (latency table)" : t.latencyEstimated ? " ms (est. from MACs)" : " ms (measured)");
      return formatCount(v);
    };
    m_before[i]->setText(text(b[i], w.before));
    m_after[i]->setText(text(a[i], w.after));
    if (i == 3)
      m_after[i]->setToolTip(w.after.latencyFromTable
                                 ? "Predicted from per-layer latencies measured on this machine (Measure latency); "
                                   "Compare measures the cut model"
                             : w.after.latencyEstimated ? "Estimate: the measured latency x MACs after / MACs before; "
                                                          "Measure latency for a prediction from measured layers"
                                                        : "Measured on this machine at batch 1");
    m_change[i]->setText(b[i] > 0 && a[i] >= 0 ? formatChange(b[i], a[i]) : "-");
  }
  if (!w.needsScores.isEmpty()) {
    m_removed->setText(w.needsScores);
    m_removed->setStyleSheet("color: " + palette::css(palette::warning()) + ";");
    m_removed->setToolTip("");
  } else if (!w.floorLayers.isEmpty()) {
    m_removed->setText(QString("%1 channels planned for removal; %2 layer(s) at the channel floor: %3")
                           .arg(w.channelsRemoved)
                           .arg(w.floorLayers.size())
                           .arg(w.floorLayers.mid(0, 3).join(", ") + (w.floorLayers.size() > 3 ? ", ..." : "")));
    m_removed->setStyleSheet("color: " + palette::css(palette::error()) + ";");
    m_removed->setToolTip("These layers keep only the minimum number of channels:\n" + w.floorLayers.join("\n") +
                          "\nRaise the minimum per layer or lower the amount.");
  } else {
    m_removed->setText(QString("%1 channels planned for removal").arg(w.channelsRemoved));
    m_removed->setStyleSheet("");
    m_removed->setToolTip("");
  }
  m_safe->setText(w.highestSafePercent >= 0
                      ? QString("highest safe percent: %1 % (no layer emptied)").arg(w.highestSafePercent * 100, 0, 'f', 1)
                      : QString("score the model to plan by percent"));
}

void PrunePanel::setUndoRedo(bool canUndo, bool canRedo) {
  m_undo->setEnabled(canUndo);
  m_redo->setEnabled(canRedo);
}

void PrunePanel::setBusy(bool busy) {
  m_apply->setEnabled(!busy);
  m_score->setEnabled(!busy);
  m_measureLatency->setEnabled(!busy);
}

}  // namespace prunelab::widgets
