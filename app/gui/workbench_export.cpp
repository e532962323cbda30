// The Export panel's side of the Workbench: exports go through core's exportModel on the
// worker (written, then read back and checked, as prunelab-cli export does), the panel
// shows the check's result, and the .pt formats the model allows are enabled in it.

#include <QFileInfo>

#include "gui/workbench.h"
#include "gui/workbench_post.h"
#include "interop/trainer_checkpoint.h"
#include "widgets/export_panel.h"
#include "widgets/main_window.h"

namespace prunelab::gui {

void Workbench::connectExport() {
  connect(m_worker, &Worker::exported, this, [this](const QString& format, const QString& path, double diff) {
    m_window->exportPanel()->setCheckResult(
        diff < 0 ? QString("%1 (%2): written, not checked").arg(QFileInfo(path).fileName(), format)
                 : QString("%1 (%2): read back and checked, max relative difference %3")
                       .arg(QFileInfo(path).fileName(), format)
                       .arg(diff, 0, 'g', 3));
  });
  connect(m_worker, &Worker::failed, this, [this](const QString& task, const QString& message) {
    if (task == "Export") m_window->exportPanel()->setCheckResult("failed: " + message);
  });
}

void Workbench::exportModel(const QString& format, const QString& path, int opset, bool foldBn) {
  if (format == "onnx") m_window->exportPanel()->setFoldBn(foldBn);
  post([w = m_worker, format, path, opset, foldBn] { w->exportModel(format, path, opset, foldBn); });
}

// The .pt formats the model can be written as (interop/trainer_checkpoint.h).
void Workbench::updatePtFormats(const Graph& model) {
  QStringList available;
  QString why;
  for (PtFormat f : {PtFormat::Yolov5, PtFormat::Ultralytics, PtFormat::Torch}) {
    const std::string no = ptFormatUnavailable(model, f);
    if (no.empty()) available << ptFormatName(f);
    else if (why.isEmpty()) why = QString::fromStdString(no);
  }
  const QString home = available.contains(ptFormatName(homeFormat(model))) ? ptFormatName(homeFormat(model)) : "";
  m_window->exportPanel()->setPtFormats(available, home, why);
}

}  // namespace prunelab::gui
