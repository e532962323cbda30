#pragma once
// LayersPanel: the sortable, filterable table of prunable layers (LayerTableModel).
// Selecting a row emits layerSelected(); selectLayer() follows selections made elsewhere
// without echoing them back. Thread: GUI thread.

#include <QWidget>

#include "widgets/layer_table_model.h"

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace prunelab::widgets {

class LayersPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LayersPanel(QWidget* parent = nullptr);
  LayerTableModel* model() const { return m_model; }
  QTableView* view() const { return m_view; }
  void selectLayer(const QString& name);

 Q_SIGNALS:
  void layerSelected(const QString& name);

 private:
  LayerTableModel* m_model;
  QSortFilterProxyModel* m_proxy;
  QTableView* m_view;
  QLineEdit* m_filter;
  bool m_following = false;
};

}  // namespace prunelab::widgets
