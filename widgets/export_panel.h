#pragma once
// ExportPanel: writes the current model. Native checkpoints (.plm) now; ONNX and
// TorchScript are listed but disabled until the interop issue lands.
// Thread: GUI thread.

#include <QWidget>

class QComboBox;
class QLineEdit;
class QPushButton;

namespace prunelab::widgets {

class ExportPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ExportPanel(QWidget* parent = nullptr);
  void setPath(const QString& path);
  QString path() const;

 Q_SIGNALS:
  void exportRequested(const QString& format, const QString& path);  // format: "native"

 private:
  QComboBox* m_format;
  QLineEdit* m_path;
  QPushButton* m_browse;
  QPushButton* m_export;
};

}  // namespace prunelab::widgets
