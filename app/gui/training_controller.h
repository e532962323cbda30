#pragma once
// TrainingController: the workbench's training runs, one at a time. It owns the current
// run's TrainControl - the Train panel's sr, lr, autopilot, pause and cancel write its
// atomics and the trainer reads them at its next step, so they act at once even while the
// run still waits in the worker's queue - and drains the worker's TrainBridge into the
// curves, the BN-gamma panel, the progress bars and the log every 40 ms while values arrive.
// Thread: GUI thread. The Workbench owns it and re-emits its signals.

#include <QObject>
#include <QString>
#include <QTimer>
#include <QVector>

#include <functional>
#include <memory>

#include "gui/worker.h"
#include "session/train_recipe.h"
#include "train/bn_stats.h"
#include "widgets/view_model.h"

namespace prunelab::widgets {
class MainWindow;
}

namespace prunelab::gui {

class TrainingController : public QObject {
  Q_OBJECT
 public:
  using Post = std::function<void(std::function<void()>)>;  // queues a call on the worker thread
  using Say = std::function<void(const QString& message)>;
  // `window` and `worker` outlive the controller; `post` counts the call for whenIdle.
  TrainingController(widgets::MainWindow& window, Worker& worker, Post post, Say info, Say fail,
                     QObject* parent = nullptr);

  // Starts a run of the current model, whose BN gammas are `gammas` now (the γ panel's
  // first frame). A second run while one goes is refused through `fail`.
  void start(const TrainSettings& settings, const GammaSnapshot& gammas);
  bool running() const { return m_epochs > 0; }
  // The controls of the current (or last) run.
  TrainControl& control() { return *m_control; }
  // Stops a running training at its next batch (the window is closing).
  void stop();

 Q_SIGNALS:
  void steps(const QVector<prunelab::widgets::StepPoint>& steps);
  void epoch(const prunelab::widgets::EpochPoint& epoch);
  void finished(bool ok, const QString& summary);

 private:
  void wirePanel();  // sr / lr / pilot / pause / cancel -> the control
  void drain();      // the bridge's pending values -> panels and log
  void showSteps(const QVector<widgets::StepPoint>& steps);
  void showEpoch(const EpochStats& e);
  void onFinished(bool ok, const QString& summary);

  widgets::MainWindow& m_window;
  Worker& m_worker;
  Post m_post;
  Say m_info, m_fail;
  std::shared_ptr<TrainControl> m_control;  // replaced by each start()
  QTimer m_drain;
  int m_epochs = 0;             // of the running run; 0 when none runs
  double m_started = 0;         // seconds since epoch
  double m_lastProgress = 0;    // last progress-bar update
};

}  // namespace prunelab::gui
