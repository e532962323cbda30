#include "gui/training_controller.h"

#include <QCheckBox>
#include <QDateTime>

#include "gui/view_convert.h"
#include "widgets/curves_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/main_window.h"
#include "widgets/train_panel.h"

namespace prunelab::gui {

namespace {

double nowSeconds() { return QDateTime::currentMSecsSinceEpoch() / 1000.0; }

}  // namespace

TrainingController::TrainingController(widgets::MainWindow& window, Worker& worker, Post post, Say info, Say fail,
                                       QObject* parent)
    : QObject(parent),
      m_window(window),
      m_worker(worker),
      m_post(std::move(post)),
      m_info(std::move(info)),
      m_fail(std::move(fail)),
      m_control(std::make_shared<TrainControl>()) {
  m_drain.setSingleShot(true);
  m_drain.setInterval(40);
  connect(&m_drain, &QTimer::timeout, this, &TrainingController::drain);
  connect(&m_worker, &Worker::trainDataPending, this, [this] {
    if (!m_drain.isActive()) m_drain.start();
  });
  connect(&m_worker, &Worker::trainingFinished, this, &TrainingController::onFinished);
  wirePanel();
}

void TrainingController::wirePanel() {
  widgets::TrainPanel* t = m_window.trainPanel();
  connect(t, &widgets::TrainPanel::srChanged, this, [this](double sr) { m_control->sr.store(sr); });
  connect(t, &widgets::TrainPanel::lrChanged, this, [this](double lr) { m_control->lr.store(lr); });
  // The pilot toggle reaches the trainer through the control (it re-engages from the current sr).
  connect(t, &widgets::TrainPanel::autopilotToggled, this, [this](bool on, bool byHand) {
    m_control->autopilot.store(on);
    if (on) m_info("sr autopilot on: it steers sr again from its current value");
    else if (byHand) m_info("sr autopilot off: sr was moved by hand; the run keeps your value");
    else m_info("sr autopilot off: sr stays where it is");
  });
  connect(t, &widgets::TrainPanel::pauseToggled, this, [this](bool p) {
    m_control->paused.store(p);
    m_info(p ? "Training paused" : "Training resumed");
  });
  connect(t, &widgets::TrainPanel::cancelRequested, this, [this] {
    m_control->cancelled.store(true);
    m_control->paused.store(false);
    m_info("Cancelling after this batch...");
  });
}

void TrainingController::start(const TrainSettings& settings, const GammaSnapshot& gammas) {
  if (running()) return m_fail("a training run is already going");
  m_epochs = settings.epochs;
  m_started = nowSeconds();
  m_window.trainPanel()->setRunning(true);
  m_window.curvesPanel()->clear();
  m_window.gammaPanel()->clear();  // this run's distribution over time, from its start
  m_window.gammaPanel()->addFrame(gammaFrame(gammas));
  if (!settings.runDir.empty()) m_info("Training; checkpoints and logs in " + QString::fromStdString(settings.runDir));
  // A new control per run, created here and kept by both sides: sr, lr, pause and Cancel
  // set from now on reach this run even while it still waits in the worker's queue.
  m_control = std::make_shared<TrainControl>(settings.sr, settings.lr);
  m_control->autopilot.store(settings.autopilot.enabled());
  m_post([w = &m_worker, settings, control = m_control] { w->train(settings, control); });
}

void TrainingController::stop() {
  m_control->cancelled.store(true);  // a running training stops at the next batch
  m_control->paused.store(false);
}

void TrainingController::showSteps(const QVector<widgets::StepPoint>& steps) {
  widgets::MainWindow& w = m_window;
  for (const auto& s : steps) w.curvesPanel()->addStep(s);
  const double now = nowSeconds();
  if (now - m_lastProgress > 0.25 || steps.back().progress >= 1.0) {  // 4 Hz is enough
    m_lastProgress = now;
    const widgets::StepPoint& last = steps.back();
    const double elapsed = now - m_started;
    const double eta = last.progress > 0 ? elapsed * (1 - last.progress) / last.progress : -1;
    w.trainPanel()->setProgress(last.progress, eta, last.imagesPerSec);
    w.setProgress(last.progress, eta);
  }
  // While the sr autopilot steers, the slider follows it; when it let go on its own (sr was
  // written elsewhere), the box follows that.
  if (m_epochs > 0 && w.trainPanel()->autopilotBox()->isChecked()) {
    if (m_control->autopilot.load())
      w.trainPanel()->showAutopilotSr(m_control->sr.load());
    else
      w.trainPanel()->clearAutopilot();
  }
  Q_EMIT this->steps(steps);
}

void TrainingController::showEpoch(const EpochStats& e) {
  const widgets::EpochPoint point = epochPoint(e);
  m_window.curvesPanel()->addEpoch(point);
  QString line = QString("epoch %1/%2: train loss %3").arg(e.epoch + 1).arg(e.epochs).arg(e.trainLoss, 0, 'f', 4);
  for (const auto& kv : point.values)
    if (kv.first.contains("top1") || kv.first.contains("mAP")) line += QString(", %1 %2").arg(kv.first).arg(kv.second, 0, 'f', 4);
  line += QString(", mean |gamma| %1").arg(e.gamma.absMean, 0, 'f', 4);
  m_info(line);
  Q_EMIT epoch(point);
}

void TrainingController::drain() {
  TrainBridge::Pending p = m_worker.bridge().take();
  QVector<widgets::StepPoint> steps;
  steps.reserve(static_cast<int>(p.steps.size()));
  for (const StepStats& s : p.steps) steps.push_back(stepPoint(s, m_epochs));
  if (!steps.isEmpty()) showSteps(steps);
  for (const GammaSnapshot& g : p.gammas) m_window.gammaPanel()->addFrame(gammaFrame(g));
  for (const EpochStats& e : p.epochs) showEpoch(e);
  for (const std::string& m : p.messages) m_info(QString::fromStdString(m));
}

void TrainingController::onFinished(bool ok, const QString& summary) {
  drain();  // may still move the bar: the reset below comes after it
  m_epochs = 0;
  m_window.trainPanel()->setRunning(false);
  // ok is false for a cancelled run and for one that failed (the error is in the log).
  if (!ok) m_window.trainPanel()->setStopped(m_control->cancelled.load() ? "cancelled" : "stopped: see the log");
  if (!summary.isEmpty()) m_info(summary);
  Q_EMIT finished(ok, summary);
}

}  // namespace prunelab::gui
