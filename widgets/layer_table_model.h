#pragma once
// LayerTableModel: one row per prunable layer (the source conv/linear of a channel group):
// name, op, channels, kept, ratio (editable), importance, share of MACs.
// Editing a ratio does not change the row: it emits ratioEdited() and the owner
// recomputes the plan and calls updateRows(), so the table always shows the real plan.
// Thread: GUI thread.

#include <QAbstractTableModel>
#include <QVector>

#include "widgets/view_model.h"

namespace prunelab::widgets {

class LayerTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Name, Op, Channels, Kept, Ratio, Importance, MacsShare, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;

  // A new model: resets the table.
  void setRows(const QVector<LayerRow>& rows);
  // Same layers, new kept counts/importance: updates cells in place (keeps sorting and
  // selection). Falls back to setRows() when the layer list differs.
  void updateRows(const QVector<LayerRow>& rows);
  const QVector<LayerRow>& rows() const { return m_rows; }
  int rowOf(const QString& layer) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;

 Q_SIGNALS:
  void ratioEdited(const QString& layer, double ratio);

 private:
  QVector<LayerRow> m_rows;
};

}  // namespace prunelab::widgets
