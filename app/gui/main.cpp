// prunelab: the desktop workbench.

#include <QApplication>

#include "exec/runtime.h"
#include "widgets/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("PruneLab");
  QApplication::setOrganizationName("PruneLab");
  QApplication::setApplicationVersion(PRUNELAB_VERSION);
  prunelab::configureThreads();
  prunelab::widgets::MainWindow window;
  window.show();
  return QApplication::exec();
}
