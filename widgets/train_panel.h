#pragma once
// TrainPanel: the training controls. Start sends the settings once; while a run is going
// sr and lr stay live (their change signals go straight to the trainer's atomics), Pause
// and Cancel act between batches. setProgress() shows the fraction and ETA; a run that
// ends early (Cancel) resets them through setStopped() so no partial bar is left behind.
// The sr autopilot box beside the slider: checked at Start, the run steers sr toward "F %
// of |gamma| below 0.01 by epoch E" and the slider follows it (showAutopilotSr); moving the
// slider by hand during the run unchecks it (autopilotToggled(false, true)) before the new
// sr goes out, so the hand always wins. Re-checking it during that run re-engages the pilot.
// Thread: GUI thread.

#include <QWidget>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace prunelab::widgets {

class SrControl;

struct TrainRequest {
  int epochs = 5;
  int batch = 128;
  double lr = 0.1;
  double sr = 0.0;
  bool srDecay = false;
  double prunedNowPercent = 0.0;  // 0..1; 0 = off
  bool autopilot = false;          // steer sr toward sparsityTarget by byEpoch
  double sparsityTarget = 0.4;     // 0..1
  int byEpoch = 3;                 // 1..epochs
  bool distill = false;            // distil from the original (the model before the first cut)
  // Data-parallel processes on this machine (1 = train in the workbench alone); the batch
  // is per process. The workbench is rank 0: curves and histograms are its own.
  int processes = 1;
};

class TrainPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainPanel(QWidget* parent = nullptr);
  TrainRequest request() const;
  void setRequest(const TrainRequest& r);
  SrControl* srControl() const { return m_sr; }
  QPushButton* startButton() const { return m_start; }
  QCheckBox* distillBox() const { return m_distill; }
  QSpinBox* processesBox() const { return m_processes; }

  void setRunning(bool running);
  void setProgress(double fraction, double etaSeconds, double imagesPerSec);
  // The run ended before its last step: the bar goes back to 0 and the ETA line says `why`.
  void setStopped(const QString& why);
  QPushButton* cancelButton() const { return m_cancel; }
  QProgressBar* progressBar() const { return m_progress; }
  QLabel* etaLabel() const { return m_eta; }
  QCheckBox* autopilotBox() const { return m_autopilot; }
  // The autopilot moved sr: the slider shows it without emitting srChanged.
  void showAutopilotSr(double sr);
  // The run's pilot let go (someone else wrote sr): the box unchecks without emitting.
  void clearAutopilot();

 Q_SIGNALS:
  void startRequested(const prunelab::widgets::TrainRequest& request);
  void pauseToggled(bool paused);
  void cancelRequested();
  void srChanged(double sr);
  void lrChanged(double lr);
  // During a run only; `byHand`: the slider was moved (the new sr follows in srChanged).
  void autopilotToggled(bool on, bool byHand);

 private:
  void configureControls();
  void buildLayout();
  void connectControls();

  QSpinBox* m_epochs;
  QSpinBox* m_batch;
  QDoubleSpinBox* m_lr;
  SrControl* m_sr;
  QCheckBox* m_srDecay;
  QCheckBox* m_distill;
  QSpinBox* m_processes;
  QDoubleSpinBox* m_prunedNow;
  QCheckBox* m_autopilot;
  QDoubleSpinBox* m_sparsityTarget;
  QSpinBox* m_byEpoch;
  bool m_running = false;
  bool m_runHasPilot = false;  // the running run was started with the autopilot (it can re-engage)
  bool m_quiet = false;        // showing the pilot's values: not the user's doing
  bool m_handMove = false;     // the box is being unchecked by a slider move
  QPushButton* m_start;
  QPushButton* m_pause;
  QPushButton* m_cancel;
  QProgressBar* m_progress;
  QLabel* m_eta;
};

}  // namespace prunelab::widgets
