#include "widgets/main_window.h"

#include <QLabel>
#include <QMenuBar>
#include <QStatusBar>

namespace prunelab::widgets {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("PruneLab");
  resize(1280, 800);
  auto* file = menuBar()->addMenu("&File");
  file->addAction("&Quit", this, &QWidget::close);
  auto* label = new QLabel("PruneLab workbench", this);
  label->setAlignment(Qt::AlignCenter);
  setCentralWidget(label);
  statusBar()->showMessage("Ready");
}

}  // namespace prunelab::widgets
