#include "widgets/main_window.h"

#include <QTimer>
#include <algorithm>

#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QFileDialog>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QProgressBar>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>

#include "widgets/channels_panel.h"
#include "widgets/compare_panel.h"
#include "widgets/curves_panel.h"
#include "widgets/detections_panel.h"
#include "widgets/export_panel.h"
#include "widgets/format.h"
#include "widgets/gamma_panel.h"
#include "widgets/layers_panel.h"
#include "widgets/log_panel.h"
#include "widgets/network_graph_view.h"
#include "widgets/prune_panel.h"
#include "widgets/sensitivity_panel.h"
#include "widgets/train_panel.h"

namespace prunelab::widgets {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_graph(new NetworkGraphView(this)), m_layers(new LayersPanel(this)),
      m_channels(new ChannelsPanel(this)), m_gammas(new GammaPanel(this)), m_curves(new CurvesPanel(this)),
      m_train(new TrainPanel(this)), m_prune(new PrunePanel(this)), m_compare(new ComparePanel(this)),
      m_detections(new DetectionsPanel(this)), m_sensitivity(new SensitivityPanel(this)),
      m_export(new ExportPanel(this)), m_log(new LogPanel(this)), m_models(new QComboBox(this)),
      m_modelLabel(new QLabel(this)), m_dataLabel(new QLabel(this)), m_taskLabel(new QLabel(this)),
      m_progress(new QProgressBar(this)) {
  setWindowTitle("PruneLab");
  resize(1600, 1000);
  setDockNestingEnabled(true);
  setCentralWidget(m_graph);

  buildDocks();
  QAction* openModel = buildFileMenu();
  QAction* run = buildStoryMenu();
  buildViewMenu();
  buildToolBar(openModel, run);
  buildStatusBar();
  setBusy({});
  m_defaultState = saveState();
  restoreLayout();
}

void MainWindow::buildDocks() {
  // Docks: controls on the left, live training evidence on the right, the per-layer
  // and per-channel views and the log along the bottom.
  QDockWidget* train = dock("Train", m_train, Qt::LeftDockWidgetArea);
  QDockWidget* prune = dock("Prune", m_prune, Qt::LeftDockWidgetArea);
  QDockWidget* exp = dock("Export", m_export, Qt::LeftDockWidgetArea);
  splitDockWidget(train, prune, Qt::Vertical);
  tabifyDockWidget(prune, exp);
  prune->raise();
  QDockWidget* gammas = dock("BN gammas", m_gammas, Qt::RightDockWidgetArea);
  QDockWidget* curves = dock("Curves", m_curves, Qt::RightDockWidgetArea);
  splitDockWidget(gammas, curves, Qt::Vertical);
  QDockWidget* layers = dock("Layers", m_layers, Qt::BottomDockWidgetArea);
  QDockWidget* channels = dock("Channels", m_channels, Qt::BottomDockWidgetArea);
  QDockWidget* compare = dock("Compare", m_compare, Qt::BottomDockWidgetArea);
  QDockWidget* detections = dock("Detections", m_detections, Qt::BottomDockWidgetArea);
  QDockWidget* sensitivity = dock("Sensitivity", m_sensitivity, Qt::BottomDockWidgetArea);
  QDockWidget* log = dock("Log", m_log, Qt::BottomDockWidgetArea);
  splitDockWidget(layers, channels, Qt::Horizontal);
  splitDockWidget(channels, log, Qt::Horizontal);
  tabifyDockWidget(channels, compare);
  tabifyDockWidget(compare, detections);
  tabifyDockWidget(detections, sensitivity);
  channels->raise();
  resizeDocks({train, gammas}, {400, 470}, Qt::Horizontal);
  resizeDocks({train, prune}, {330, 470}, Qt::Vertical);
  resizeDocks({layers}, {290}, Qt::Vertical);
  resizeDocks({layers, channels, log}, {560, 640, 400}, Qt::Horizontal);
}

// File: models, datasets, projects. Returns Open model (the toolbar's Open...).
QAction* MainWindow::buildFileMenu() {
  auto* file = menuBar()->addMenu("&File");
  QAction* openModel = file->addAction("Open &model...", this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Open model", {},
                                                   "Models (*.plm *.onnx *.pt *.pth *.yaml *.yml);;All files (*)");
    if (!f.isEmpty()) Q_EMIT modelRequested(f);
  });
  openModel->setShortcut(QKeySequence::Open);
  file->addAction("Open &dataset...", this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, "Open dataset (folder per class, or with data.yaml)");
    if (d.isEmpty()) return;
    Q_EMIT dataRequested(QFileInfo(d + "/data.yaml").exists() ? d + "/data.yaml" : d);
  });
  file->addAction("Built-in &Fashion-MNIST", this, [this] { Q_EMIT dataRequested("fashion-mnist"); });
  file->addSeparator();
  file->addAction("Open &project...", this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Open project", {}, "PruneLab project (*.prunelab)");
    if (!f.isEmpty()) Q_EMIT projectOpenRequested(f);
  });
  QAction* save = file->addAction("&Save project...", this, [this] {
    QString f = QFileDialog::getSaveFileName(this, "Save project", {}, "PruneLab project (*.prunelab)");
    if (f.isEmpty()) return;
    if (!f.endsWith(".prunelab")) f += ".prunelab";
    Q_EMIT projectSaveRequested(f);
  });
  save->setShortcut(QKeySequence::Save);
  file->addSeparator();
  file->addAction("&Quit", this, &QWidget::close)->setShortcut(QKeySequence::Quit);
  return openModel;
}

// Story: the demos and Run the whole story (returned: the toolbar shows it too).
QAction* MainWindow::buildStoryMenu() {
  auto* story = menuBar()->addMenu("&Story");
  story->addAction("Open demo: &classifier", this, &MainWindow::demoRequested);
  story->addAction("Open demo: &detector", this, &MainWindow::detectorDemoRequested);
  story->addSeparator();
  QAction* run = story->addAction("&Run the whole story", this, &MainWindow::storyRequested);
  run->setToolTip("Sparse-train, prune, fine-tune, compare, export and write the report, unattended");
  return run;
}

// View: every dock's toggle and Reset layout (after the docks exist).
void MainWindow::buildViewMenu() {
  auto* view = menuBar()->addMenu("&View");
  for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());
  view->addSeparator();
  view->addAction("&Reset layout", this, &MainWindow::resetLayout);
}

// The built-in models, Open..., Evaluate, Compare and the story.
void MainWindow::buildToolBar(QAction* openModel, QAction* run) {
  auto* bar = addToolBar("Main");
  bar->setObjectName("mainToolbar");
  bar->addWidget(new QLabel(" Model: "));
  m_models->setMinimumWidth(140);
  m_models->setToolTip("Built-in models (random weights until trained); File > Open model for files");
  bar->addWidget(m_models);
  connect(m_models, &QComboBox::activated, this, [this] {
    const QString path = m_models->currentData().toString();
    Q_EMIT modelRequested(path.isEmpty() ? m_models->currentText() : path);
  });
  bar->addAction("Open...", openModel, &QAction::trigger);
  bar->addSeparator();
  bar->addAction("Evaluate", this, &MainWindow::evaluateRequested);
  bar->addAction("Compare", this, &MainWindow::compareRequested);
  bar->addSeparator();
  bar->addAction(run);
}

// The running task, the model and data labels, and the task's progress.
void MainWindow::buildStatusBar() {
  m_progress->setMaximumWidth(260);
  m_progress->setRange(0, 1000);
  m_progress->setVisible(false);
  statusBar()->addWidget(m_taskLabel, 1);
  for (QLabel* l : {m_modelLabel, m_dataLabel}) {
    l->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    l->setMinimumWidth(200);
    statusBar()->addWidget(l, 3);
  }
  statusBar()->addPermanentWidget(m_progress);
}

void MainWindow::raisePanel(QWidget* panel, int minHeight) {
  for (QDockWidget* d : findChildren<QDockWidget*>())
    if (d->widget() == panel) {
      d->show();
      d->raise();
      if (d->height() < minHeight && !d->isFloating()) resizeDocks({d}, {minHeight}, Qt::Vertical);
    }
}

void MainWindow::resetLayout() {
  restoreState(m_defaultState);
  for (QDockWidget* d : findChildren<QDockWidget*>()) d->show();
  resize(1600, 1000);
  QTimer::singleShot(0, this, [this] { applyDefaultDockSizes(); });
}

QDockWidget* MainWindow::dock(const QString& title, QWidget* w, Qt::DockWidgetArea area) {
  auto* d = new QDockWidget(title, this);
  d->setObjectName(title + "Dock");
  d->setWidget(w);
  addDockWidget(area, d);
  return d;
}

void MainWindow::restoreLayout() {
  QSettings s;
  if (s.contains("window/geometry")) restoreGeometry(s.value("window/geometry").toByteArray());
  if (s.contains("window/state")) m_layoutRestored = restoreState(s.value("window/state").toByteArray());
}

// The default dock sizes as shares of the window: set in the constructor they are lost (the
// window has no size yet) and the bottom docks came out about 60 px high at 1600x1000.
void MainWindow::applyDefaultDockSizes() {
  auto find = [this](const char* title) { return findChild<QDockWidget*>(QString(title) + "Dock"); };
  QDockWidget *train = find("Train"), *prune = find("Prune"), *gammas = find("BN gammas"), *layers = find("Layers"),
              *channels = find("Channels"), *log = find("Log");
  if (!train || !prune || !gammas || !layers || !channels || !log) return;
  const int w = width(), h = height();
  resizeDocks({train, gammas}, {std::max(340, w / 4), std::max(380, w * 3 / 10)}, Qt::Horizontal);
  resizeDocks({layers}, {std::max(200, h * 3 / 10)}, Qt::Vertical);
  resizeDocks({train, prune}, {h * 3 / 10, h * 4 / 10}, Qt::Vertical);
  resizeDocks({layers, channels, log}, {w * 35 / 100, w * 40 / 100, w * 25 / 100}, Qt::Horizontal);
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (m_shownOnce) return;
  m_shownOnce = true;
  if (!m_layoutRestored) QTimer::singleShot(0, this, [this] { applyDefaultDockSizes(); });
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  QMainWindow::closeEvent(event);
}

void MainWindow::setModelNames(const QStringList& names) {
  m_models->clear();
  m_models->addItems(names);
}

void MainWindow::setModelLabel(const QString& text) { m_modelLabel->setText(text); }

void MainWindow::setCurrentModelName(const QString& name) {
  // A file shows by its name, as an extra entry (re-choosing it reloads the path).
  int i = m_models->findText(name);
  if (i < 0) i = m_models->findData(name);
  if (i < 0) {
    m_models->addItem(QFileInfo(name).fileName(), name);
    i = m_models->count() - 1;
  }
  m_models->setCurrentIndex(i);
}
void MainWindow::setDataLabel(const QString& text) { m_dataLabel->setText(text); }

void MainWindow::setBusy(const QString& task) {
  m_task = task;
  m_taskLabel->setText(task.isEmpty() ? "Ready" : task + "...");
  m_progress->setVisible(!task.isEmpty());
  m_progress->setRange(0, 0);  // indeterminate until progress arrives
}

void MainWindow::setProgress(double fraction, double etaSeconds) {
  if (fraction < 0) {
    m_progress->setRange(0, 0);
    return;
  }
  m_progress->setRange(0, 1000);
  m_progress->setValue(static_cast<int>(fraction * 1000));
  m_progress->setFormat(etaSeconds >= 0 ? QString("%p% - ETA %1").arg(formatDuration(etaSeconds)) : "%p%");
}

}  // namespace prunelab::widgets
