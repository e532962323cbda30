#pragma once
// GraphNodeItem: one box of the network graph, a node or a collapsed block, painted
// directly (no child text items) so ~400 of them stay cheap; text is skipped when zoomed
// out too far to read it. Clicks, double clicks and the context menu go to its view.
//
// Threads: GUI thread only, like every QGraphicsItem.

#include <QFont>
#include <QGraphicsItem>
#include <QStringList>

namespace prunelab::widgets {

class NetworkGraphView;

class GraphNodeItem : public QGraphicsItem {
 public:
  // `view` outlives the item (it owns the scene); `key` names the unit to the view.
  GraphNodeItem(NetworkGraphView* view, QString key, const QRectF& r, bool emphasised, bool block);
  const QString& key() const { return m_key; }
  QColor fill() const { return m_fill; }
  void setFill(const QColor& c);
  void setSelectedBox(bool on);
  // First line bold; lines are elided to the box once here, not on every paint.
  void setLines(const QStringList& lines);

  QRectF boundingRect() const override { return m_rect.adjusted(-2, -2, 2, 2); }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) override;

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* e) override;
  void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* e) override;
  void contextMenuEvent(QGraphicsSceneContextMenuEvent* e) override;

 private:
  NetworkGraphView* m_view;
  QString m_key;
  QRectF m_rect;
  bool m_emphasised;
  bool m_block;
  bool m_selected = false;
  QColor m_fill = Qt::white;
  QStringList m_lines;
  QFont m_font, m_bold;
};

}  // namespace prunelab::widgets
