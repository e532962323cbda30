#include "widgets/export_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStandardItemModel>

namespace prunelab::widgets {

namespace {
bool isPt(const QString& format) {
  return format == "torchscript" || format == "yolov5" || format == "ultralytics" || format == "torch";
}
QString extensionOf(const QString& format) {
  return format == "onnx" ? "onnx" : isPt(format) ? "pt" : "plm";
}
QString filterOf(const QString& format) {
  if (format == "onnx") return "ONNX model (*.onnx)";
  if (format == "torchscript") return "TorchScript module (*.pt)";
  if (isPt(format)) return "PyTorch checkpoint (*.pt)";
  return "PruneLab checkpoint (*.plm)";
}
}  // namespace

ExportPanel::ExportPanel(QWidget* parent)
    : QWidget(parent), m_format(new QComboBox(this)), m_path(new QLineEdit(this)),
      m_browse(new QPushButton("...", this)), m_opset(new QSpinBox(this)),
      m_foldBn(new QCheckBox("Fold BatchNorm into Conv (deployment)", this)), m_export(new QPushButton("Export", this)),
      m_check(new QLabel(this)) {
  m_format->addItem("Native checkpoint (.plm)", "native");
  m_format->addItem("ONNX (.onnx)", "onnx");
  m_format->addItem("TorchScript (.pt)", "torchscript");
  m_format->addItem("yolov5 .pt (train.py, val.py, detect.py, export.py load it)", "yolov5");
  m_format->addItem("ultralytics .pt (YOLO(...) loads, validates, exports it)", "ultralytics");
  m_format->addItem("PyTorch .pt (torch.load: torchvision ResNet)", "torch");
  setPtFormats({}, {}, "open a model from a yolov5/ultralytics .pt, or a zoo ResNet");
  m_check->setWordWrap(true);
  m_check->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_opset->setRange(13, 17);
  m_opset->setValue(17);
  m_opset->setToolTip("ONNX opset; 13 for older runtimes. The batch dim is dynamic.");
  m_foldBn->setToolTip("Each BatchNorm after a Conv becomes part of the Conv's weight and bias: smaller and faster,\n"
                       "but the file can no longer be sparse-trained or pruned by BN scale.");
  m_path->setPlaceholderText("pruned.plm");
  auto* row = new QHBoxLayout;
  row->addWidget(m_path, 1);
  row->addWidget(m_browse);
  auto* form = new QFormLayout(this);
  form->addRow("Format", m_format);
  form->addRow("File", row);
  form->addRow("Opset", m_opset);
  form->addRow("", m_foldBn);
  form->addRow("", m_export);
  form->addRow("Check", m_check);
  formatChanged();
  connect(m_format, &QComboBox::currentIndexChanged, this, [this] { formatChanged(); });
  connect(m_browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, "Export model", m_path->text(), filterOf(format()));
    if (!f.isEmpty()) m_path->setText(f);
  });
  connect(m_export, &QPushButton::clicked, this, [this] {
    QString p = m_path->text().trimmed();
    if (p.isEmpty()) p = "pruned." + extensionOf(format());
    Q_EMIT exportRequested(format(), p, m_opset->value(), m_foldBn->isChecked());
  });
}

void ExportPanel::formatChanged() {
  const QString f = format();
  const bool onnx = f == "onnx";
  m_opset->setEnabled(onnx);
  m_foldBn->setEnabled(onnx);
  m_path->setPlaceholderText("pruned." + extensionOf(f));
  const QString p = m_path->text().trimmed();
  if (!p.isEmpty()) {
    const QFileInfo info(p);
    m_path->setText(info.path() == "." && !p.startsWith("./") ? info.completeBaseName() + "." + extensionOf(f)
                                                              : info.path() + "/" + info.completeBaseName() + "." + extensionOf(f));
  }
}

void ExportPanel::setFormat(const QString& format) {
  const int i = m_format->findData(format);
  if (i >= 0) m_format->setCurrentIndex(i);
}
QString ExportPanel::format() const { return m_format->currentData().toString(); }
void ExportPanel::setFoldBn(bool fold) { m_foldBn->setChecked(fold); }

void ExportPanel::setPtFormats(const QStringList& available, const QString& home, const QString& why) {
  auto* model = qobject_cast<QStandardItemModel*>(m_format->model());
  for (const char* f : {"yolov5", "ultralytics", "torch"}) {
    const int i = m_format->findData(QString(f));
    if (i < 0 || !model) continue;
    QStandardItem* item = model->item(i);
    const bool on = available.contains(f);
    item->setEnabled(on);
    item->setToolTip(on ? (home == f ? "the format this model came in" : "") : why);
  }
  if (!available.contains(format()) && isPt(format()) && format() != "torchscript")
    setFormat(home.isEmpty() ? "native" : home);
}

void ExportPanel::setCheckResult(const QString& text) { m_check->setText(text); }
QString ExportPanel::checkResult() const { return m_check->text(); }

void ExportPanel::setPath(const QString& path) {
  const QString ext = QFileInfo(path).suffix().toLower();
  // A .pt keeps the .pt format chosen (TorchScript or a checkpoint for the user's stack).
  const QString f = ext == "onnx" ? "onnx" : ext == "pt" ? (isPt(format()) ? format() : "torchscript")
                  : ext == "plm" ? "native" : format();
  m_path->setText(path);
  if (f != format()) {
    QSignalBlocker block(m_format);  // keep the path as given
    setFormat(f);
    m_opset->setEnabled(f == "onnx");
    m_foldBn->setEnabled(f == "onnx");
  }
}
QString ExportPanel::path() const { return m_path->text(); }

}  // namespace prunelab::widgets
