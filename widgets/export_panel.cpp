#include "widgets/export_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardItemModel>

namespace prunelab::widgets {

ExportPanel::ExportPanel(QWidget* parent)
    : QWidget(parent), m_format(new QComboBox(this)), m_path(new QLineEdit(this)),
      m_browse(new QPushButton("...", this)), m_export(new QPushButton("Export", this)) {
  m_format->addItem("Native checkpoint (.plm)", "native");
  m_format->addItem("ONNX (interop issue)", "onnx");
  m_format->addItem("TorchScript (interop issue)", "torchscript");
  if (auto* model = qobject_cast<QStandardItemModel*>(m_format->model()))
    for (int i = 1; i < 3; ++i) model->item(i)->setEnabled(false);
  m_path->setPlaceholderText("pruned.plm");
  auto* row = new QHBoxLayout;
  row->addWidget(m_path, 1);
  row->addWidget(m_browse);
  auto* form = new QFormLayout(this);
  form->addRow("Format", m_format);
  form->addRow("File", row);
  form->addRow("", m_export);
  connect(m_browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getSaveFileName(this, "Export model", m_path->text(), "PruneLab checkpoint (*.plm)");
    if (!f.isEmpty()) m_path->setText(f);
  });
  connect(m_export, &QPushButton::clicked, this, [this] {
    QString p = m_path->text().trimmed();
    if (p.isEmpty()) p = "pruned.plm";
    Q_EMIT exportRequested(m_format->currentData().toString(), p);
  });
}

void ExportPanel::setPath(const QString& path) { m_path->setText(path); }
QString ExportPanel::path() const { return m_path->text(); }

}  // namespace prunelab::widgets
