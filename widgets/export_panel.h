#pragma once
// ExportPanel: writes the current model as a native checkpoint (.plm), ONNX (opset 13-17,
// dynamic batch, optional BN folding for deployment) or TorchScript (.pt). Choosing a
// format fixes the file's extension; the ONNX options show only for ONNX.
// Thread: GUI thread.

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace prunelab::widgets {

class ExportPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ExportPanel(QWidget* parent = nullptr);
  void setPath(const QString& path);  // a .onnx/.pt/.plm path also selects its format
  QString path() const;
  // "native", "onnx" or "torchscript"; also adjusts the path's extension.
  void setFormat(const QString& format);
  QString format() const;
  void setFoldBn(bool fold);  // shows how an ONNX export was written

 Q_SIGNALS:
  // format: native | onnx | torchscript; opset and foldBn matter for onnx only.
  void exportRequested(const QString& format, const QString& path, int opset, bool foldBn);

 private:
  void formatChanged();

  QComboBox* m_format;
  QLineEdit* m_path;
  QPushButton* m_browse;
  QSpinBox* m_opset;
  QCheckBox* m_foldBn;
  QPushButton* m_export;
};

}  // namespace prunelab::widgets
