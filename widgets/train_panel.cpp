#include "widgets/train_panel.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <algorithm>

#include "widgets/format.h"
#include "widgets/sr_control.h"

namespace prunelab::widgets {

TrainPanel::TrainPanel(QWidget* parent)
    : QWidget(parent), m_epochs(new QSpinBox(this)), m_batch(new QSpinBox(this)), m_lr(new QDoubleSpinBox(this)),
      m_sr(new SrControl(this)), m_srDecay(new QCheckBox("linear decay (YOLOv5 slimming)", this)),
      m_distill(new QCheckBox("distil from the original", this)), m_processes(new QSpinBox(this)),
      m_prunedNow(new QDoubleSpinBox(this)),
      m_autopilot(new QCheckBox("autopilot: reach", this)), m_sparsityTarget(new QDoubleSpinBox(this)),
      m_byEpoch(new QSpinBox(this)), m_start(new QPushButton("Start", this)),
      m_pause(new QPushButton("Pause", this)), m_cancel(new QPushButton("Cancel", this)),
      m_progress(new QProgressBar(this)), m_eta(new QLabel(this)) {
  configureControls();
  buildLayout();
  connectControls();
  setRequest(TrainRequest{});
  setRunning(false);
}

// Ranges, units and tooltips of every control.
void TrainPanel::configureControls() {
  m_epochs->setRange(1, 1000);
  m_batch->setRange(1, 4096);
  m_lr->setDecimals(5);
  m_lr->setRange(1e-5, 1.0);
  m_lr->setSingleStep(0.001);
  m_prunedNow->setRange(0, 95);
  m_prunedNow->setSuffix(" %");
  m_prunedNow->setToolTip("After each epoch, evaluate a copy pruned by BN |gamma| at this percent "
                          "(the accuracy you would keep if you pruned now); 0 = off");
  m_autopilot->setToolTip("sr autopilot: a controller moves sr during the run so that this share of BN |gamma| "
                          "falls below 0.01 by the chosen epoch, backing off if validation top-1 / mAP drops by more "
                          "than 5 points; moving the slider turns it off");
  m_sparsityTarget->setRange(1, 99);
  m_sparsityTarget->setDecimals(0);
  m_sparsityTarget->setSuffix(" %");
  m_byEpoch->setRange(1, 1000);
  m_byEpoch->setPrefix("by epoch ");
  m_distill->setToolTip("Fine-tune with the model before the first cut as teacher: it sees the same batches and "
                        "its softened outputs join the loss (knowledge distillation)");
  // The cap core's maxLocalWorkers() enforces (4 per core, at least 8); widgets do not link
  // core, so the rule is restated here and the worker refuses anything above it anyway.
  m_processes->setRange(1, std::max(8, 4 * QThread::idealThreadCount()));
  m_processes->setToolTip("Data-parallel training: this many processes on this machine, each with the batch above "
                          "and its share of every epoch; gradients are averaged across them (PyTorch's c10d, Gloo). "
                          "The workbench is rank 0: the curves and histograms are its own, and sr, lr, Pause and "
                          "Cancel reach every process at the next step");
  m_pause->setCheckable(true);
  m_start->setToolTip("Train the current model on the open dataset (sparse when sr > 0)");
  m_progress->setRange(0, 1000);
  m_progress->setFormat("%p%");
}

// The form (settings, the sr autopilot line), the run buttons, progress and ETA.
void TrainPanel::buildLayout() {
  auto* form = new QFormLayout;
  form->addRow("Epochs", m_epochs);
  form->addRow("Batch", m_batch);
  form->addRow("Learning rate", m_lr);
  form->addRow("sr (BN L1)", m_sr);
  auto* pilot = new QHBoxLayout;
  pilot->addWidget(m_autopilot);
  pilot->addWidget(m_sparsityTarget);
  pilot->addWidget(new QLabel("of |gamma| < 0.01", this));
  pilot->addWidget(m_byEpoch);
  pilot->addStretch(1);
  form->addRow("", pilot);
  form->addRow("", m_srDecay);
  form->addRow("Pruned-now probe", m_prunedNow);
  form->addRow("", m_distill);
  form->addRow("Processes", m_processes);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_start);
  buttons->addWidget(m_pause);
  buttons->addWidget(m_cancel);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(m_progress);
  layout->addWidget(m_eta);
  layout->addStretch(1);
}

// Start/Pause/Cancel, and sr and lr, which stay live during a run.
void TrainPanel::connectControls() {
  connect(m_start, &QPushButton::clicked, this, [this] { Q_EMIT startRequested(request()); });
  connect(m_pause, &QPushButton::toggled, this, [this](bool on) {
    m_pause->setText(on ? "Resume" : "Pause");
    Q_EMIT pauseToggled(on);
  });
  connect(m_cancel, &QPushButton::clicked, this, &TrainPanel::cancelRequested);
  connect(m_sr, &SrControl::valueChanged, this, [this](double sr) {
    if (m_quiet) return;  // the pilot's value on display
    if (m_running && m_autopilot->isChecked()) {  // the hand takes over: the pilot goes off first
      m_handMove = true;
      m_autopilot->setChecked(false);
      m_handMove = false;
    }
    Q_EMIT srChanged(sr);
  });
  connect(m_autopilot, &QCheckBox::toggled, this, [this](bool on) {
    if (m_running && !m_quiet) Q_EMIT autopilotToggled(on, m_handMove);
  });
  connect(m_epochs, &QSpinBox::valueChanged, this, [this](int epochs) { m_byEpoch->setMaximum(epochs); });
  connect(m_lr, &QDoubleSpinBox::valueChanged, this, &TrainPanel::lrChanged);
}

TrainRequest TrainPanel::request() const {
  TrainRequest r;
  r.epochs = m_epochs->value();
  r.batch = m_batch->value();
  r.lr = m_lr->value();
  r.sr = m_sr->value();
  r.srDecay = m_srDecay->isChecked();
  r.prunedNowPercent = m_prunedNow->value() / 100.0;
  r.autopilot = m_autopilot->isChecked();
  r.sparsityTarget = m_sparsityTarget->value() / 100.0;
  r.byEpoch = m_byEpoch->value();
  r.distill = m_distill->isChecked();
  r.processes = m_processes->value();
  return r;
}

void TrainPanel::setRequest(const TrainRequest& r) {
  m_epochs->setValue(r.epochs);
  m_batch->setValue(r.batch);
  m_lr->setValue(r.lr);
  m_sr->setValue(r.sr);
  m_srDecay->setChecked(r.srDecay);
  m_prunedNow->setValue(r.prunedNowPercent * 100.0);
  m_autopilot->setChecked(r.autopilot);
  m_sparsityTarget->setValue(r.sparsityTarget * 100.0);
  m_byEpoch->setMaximum(r.epochs);
  m_byEpoch->setValue(r.byEpoch);
  m_distill->setChecked(r.distill);
  m_processes->setValue(r.processes);
}

void TrainPanel::showAutopilotSr(double sr) {
  m_quiet = true;
  m_sr->setValue(sr);
  m_quiet = false;
}

void TrainPanel::clearAutopilot() {
  m_quiet = true;
  m_autopilot->setChecked(false);
  m_quiet = false;
}

void TrainPanel::setRunning(bool running) {
  m_running = running;
  m_runHasPilot = running && m_autopilot->isChecked();
  m_autopilot->setEnabled(!running || m_runHasPilot);  // a run without a pilot cannot get one
  m_sparsityTarget->setEnabled(!running);
  m_byEpoch->setEnabled(!running);
  m_start->setEnabled(!running);
  m_pause->setEnabled(running);
  m_cancel->setEnabled(running);
  m_epochs->setEnabled(!running);
  m_batch->setEnabled(!running);
  m_srDecay->setEnabled(!running);
  m_prunedNow->setEnabled(!running);
  m_distill->setEnabled(!running);
  m_processes->setEnabled(!running);
  if (!running) {
    m_pause->setChecked(false);
  } else {
    m_progress->setValue(0);
    m_eta->setText("starting...");
  }
}

void TrainPanel::setStopped(const QString& why) {
  m_progress->setValue(0);
  m_eta->setText(why);
}

void TrainPanel::setProgress(double fraction, double etaSeconds, double imagesPerSec) {
  m_progress->setValue(static_cast<int>(fraction * 1000));
  QString text = QString("ETA %1").arg(formatDuration(etaSeconds));
  if (imagesPerSec > 0) text += QString(" - %1 images/s").arg(imagesPerSec, 0, 'f', 0);
  m_eta->setText(text);
}

}  // namespace prunelab::widgets
