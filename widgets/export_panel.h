#pragma once
// ExportPanel: writes the current model as a native checkpoint (.plm), ONNX (opset 13-17,
// dynamic batch, optional BN folding for deployment), TorchScript (.pt), or a .pt that the
// user's own stack loads and fine-tunes: "yolov5 .pt", "ultralytics .pt" (a model opened
// from such a checkpoint) and "PyTorch .pt" (torchvision ResNet objects). Those three are
// enabled as the model allows (setPtFormats). Choosing a format fixes the file's extension;
// the ONNX options show only for ONNX. Every export is checked read back by the
// controller; setCheckResult shows what that check found.
// Thread: GUI thread.

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
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
  // Which of "yolov5", "ultralytics", "torch" the current model can be written as; `home`
  // (one of them, or empty) is what "pt" means for it. The others are disabled, with `why`
  // as their tooltip.
  void setPtFormats(const QStringList& available, const QString& home, const QString& why);
  // The last export's read-back check, e.g. "checked: max relative difference 2e-07".
  void setCheckResult(const QString& text);
  QString checkResult() const;

 Q_SIGNALS:
  // format: native | onnx | torchscript | yolov5 | ultralytics | torch; opset and foldBn
  // matter for onnx only.
  void exportRequested(const QString& format, const QString& path, int opset, bool foldBn);

 private:
  void formatChanged();

  QComboBox* m_format;
  QLineEdit* m_path;
  QPushButton* m_browse;
  QSpinBox* m_opset;
  QCheckBox* m_foldBn;
  QPushButton* m_export;
  QLabel* m_check;
};

}  // namespace prunelab::widgets
