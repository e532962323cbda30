#pragma once
// TrainPanel: the training controls. Start sends the settings once; while a run is going
// sr and lr stay live (their change signals go straight to the trainer's atomics), Pause
// and Cancel act between batches. setProgress() shows the fraction and ETA; a run that
// ends early (Cancel) resets them through setStopped() so no partial bar is left behind.
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
  bool distill = false;           // distil from the original (the model before the first cut)
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

  void setRunning(bool running);
  void setProgress(double fraction, double etaSeconds, double imagesPerSec);
  // The run ended before its last step: the bar goes back to 0 and the ETA line says `why`.
  void setStopped(const QString& why);
  QPushButton* cancelButton() const { return m_cancel; }
  QProgressBar* progressBar() const { return m_progress; }
  QLabel* etaLabel() const { return m_eta; }

 Q_SIGNALS:
  void startRequested(const prunelab::widgets::TrainRequest& request);
  void pauseToggled(bool paused);
  void cancelRequested();
  void srChanged(double sr);
  void lrChanged(double lr);

 private:
  QSpinBox* m_epochs;
  QSpinBox* m_batch;
  QDoubleSpinBox* m_lr;
  SrControl* m_sr;
  QCheckBox* m_srDecay;
  QCheckBox* m_distill;
  QDoubleSpinBox* m_prunedNow;
  QPushButton* m_start;
  QPushButton* m_pause;
  QPushButton* m_cancel;
  QProgressBar* m_progress;
  QLabel* m_eta;
};

}  // namespace prunelab::widgets
