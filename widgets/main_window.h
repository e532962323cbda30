#pragma once
// The workbench main window: the network graph in the centre, the panels in docks
// (Layers, Channels, BN gammas, Curves, Train, Prune, Compare, Detections, Export, Log), a toolbar,
// and a status bar with the running task, its progress and ETA. It only lays out and
// forwards: file dialogs produce paths, and app's Workbench wires panels to core.
// Thread: GUI thread. Never includes torch.

#include <QMainWindow>
#include <QStringList>

class QAction;
class QComboBox;
class QLabel;
class QProgressBar;

namespace prunelab::widgets {

class ChannelsPanel;
class ComparePanel;
class CurvesPanel;
class DetectionsPanel;
class ExportPanel;
class GammaPanel;
class LayersPanel;
class LogPanel;
class NetworkGraphView;
class PrunePanel;
class SensitivityPanel;
class TrainPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

  NetworkGraphView* graphView() const { return m_graph; }
  LayersPanel* layersPanel() const { return m_layers; }
  ChannelsPanel* channelsPanel() const { return m_channels; }
  GammaPanel* gammaPanel() const { return m_gammas; }
  CurvesPanel* curvesPanel() const { return m_curves; }
  TrainPanel* trainPanel() const { return m_train; }
  PrunePanel* prunePanel() const { return m_prune; }
  ComparePanel* comparePanel() const { return m_compare; }
  DetectionsPanel* detectionsPanel() const { return m_detections; }
  SensitivityPanel* sensitivityPanel() const { return m_sensitivity; }
  ExportPanel* exportPanel() const { return m_export; }
  LogPanel* logPanel() const { return m_log; }

  void setModelNames(const QStringList& names);  // the built-in models offered in the toolbar
  void setModelLabel(const QString& text);       // the current model and its history step
  void setCurrentModelName(const QString& name);  // selects it in the toolbar if built in
  void setDataLabel(const QString& text);
  // task empty: idle. fraction < 0: indeterminate.
  void setBusy(const QString& task);
  void setProgress(double fraction, double etaSeconds);
  QString busyTask() const { return m_task; }
  // The dock arrangement the window starts with (the user's own is restored from QSettings).
  void resetLayout();
  // Shows and raises the dock holding `panel` (e.g. Compare when its numbers arrive),
  // growing it to `minHeight` pixels if it is docked and smaller.
  void raisePanel(QWidget* panel, int minHeight = 0);

 Q_SIGNALS:
  void modelRequested(const QString& nameOrPath);
  void dataRequested(const QString& spec);
  void projectOpenRequested(const QString& path);
  void projectSaveRequested(const QString& path);
  void compareRequested();
  void evaluateRequested();
  void demoRequested();          // Story > Open demo: classifier
  void detectorDemoRequested();  // Story > Open demo: detector
  void storyRequested();         // Story > Run the whole story

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildDocks();
  QAction* buildFileMenu();
  QAction* buildStoryMenu();
  void buildViewMenu();
  void buildToolBar(QAction* openModel, QAction* run);
  void buildStatusBar();
  QDockWidget* dock(const QString& title, QWidget* w, Qt::DockWidgetArea area);
  void restoreLayout();
  void applyDefaultDockSizes();
  void showEvent(QShowEvent* event) override;

  NetworkGraphView* m_graph;
  LayersPanel* m_layers;
  ChannelsPanel* m_channels;
  GammaPanel* m_gammas;
  CurvesPanel* m_curves;
  TrainPanel* m_train;
  PrunePanel* m_prune;
  ComparePanel* m_compare;
  DetectionsPanel* m_detections;
  SensitivityPanel* m_sensitivity;
  ExportPanel* m_export;
  LogPanel* m_log;
  QComboBox* m_models;
  QLabel* m_modelLabel;
  QLabel* m_dataLabel;
  QLabel* m_taskLabel;
  QProgressBar* m_progress;
  QString m_task;
  QByteArray m_defaultState;
  bool m_layoutRestored = false;  // a saved layout was restored: its sizes are the user's
  bool m_shownOnce = false;
};

}  // namespace prunelab::widgets
