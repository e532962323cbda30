#pragma once
// The workbench main window. For now: the frame (menus, status bar, central area)
// that the panels of the GUI issue dock into. Never includes torch.

#include <QMainWindow>

namespace prunelab::widgets {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
};

}  // namespace prunelab::widgets
