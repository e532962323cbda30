#include "widgets/layer_table_model.h"

#include <QColor>
#include <algorithm>

#include "widgets/palette.h"

namespace prunelab::widgets {

void LayerTableModel::setRows(const QVector<LayerRow>& rows) {
  beginResetModel();
  m_rows = rows;
  endResetModel();
}

void LayerTableModel::updateRows(const QVector<LayerRow>& rows) {
  bool same = rows.size() == m_rows.size();
  for (int i = 0; same && i < rows.size(); ++i) same = rows[i].name == m_rows[i].name;
  if (!same) return setRows(rows);
  m_rows = rows;
  if (!m_rows.isEmpty()) Q_EMIT dataChanged(index(0, Kept), index(m_rows.size() - 1, MacsShare));
}

int LayerTableModel::rowOf(const QString& layer) const {
  for (int i = 0; i < m_rows.size(); ++i)
    if (m_rows[i].name == layer) return i;
  return -1;
}

int LayerTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_rows.size(); }
int LayerTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= m_rows.size()) return {};
  const LayerRow& r = m_rows[index.row()];
  if (role == Qt::DisplayRole || role == Qt::EditRole) {
    switch (index.column()) {
      case Name: return r.name;
      case Op: return r.op;
      case Channels: return r.channels;
      case Kept: return r.kept;
      case Ratio: return role == Qt::EditRole ? QVariant(r.ratio()) : QVariant(QString::number(r.ratio() * 100, 'f', 1) + " %");
      case Importance: return role == Qt::EditRole ? QVariant(r.importanceMean) : QVariant(QString::number(r.importanceMean, 'g', 3));
      case MacsShare: return role == Qt::EditRole ? QVariant(r.macsShare) : QVariant(QString::number(r.macsShare * 100, 'f', 1) + " %");
    }
  }
  if (role == Qt::UserRole) {  // numeric sort key
    switch (index.column()) {
      case Ratio: return r.ratio();
      case Importance: return r.importanceMean;
      case MacsShare: return r.macsShare;
      default: return data(index, Qt::DisplayRole);
    }
  }
  if (role == Qt::ForegroundRole && !r.prunable) return palette::pinned();
  if (role == Qt::BackgroundRole && index.column() == Ratio && r.ratio() > 0)
    return palette::cost(std::min(0.6, r.ratio()));  // never so dark that the text is lost
  if (role == Qt::TextAlignmentRole && index.column() >= Channels) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole && index.column() == Ratio)
    return r.prunable ? "Double-click to type a prune ratio (0-0.95)" : "Pinned: feeds a graph output or is protected";
  return {};
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Layer", "Op", "Channels", "Kept", "Prune ratio", "Importance", "MACs share"};
  return section >= 0 && section < ColumnCount ? QString(names[section]) : QVariant();
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.isValid() && index.column() == Ratio && m_rows[index.row()].prunable) f |= Qt::ItemIsEditable;
  return f;
}

bool LayerTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (role != Qt::EditRole || index.column() != Ratio) return false;
  QString text = value.toString().trimmed();
  bool percent = text.endsWith('%');
  if (percent) text.chop(1);
  bool ok = false;
  double ratio = text.toDouble(&ok);
  if (!ok) return false;
  if (percent || ratio > 1.0) ratio /= 100.0;  // "40" and "40 %" mean 0.4
  ratio = std::clamp(ratio, 0.0, 0.95);
  Q_EMIT ratioEdited(m_rows[index.row()].name, ratio);
  return true;
}

}  // namespace prunelab::widgets
