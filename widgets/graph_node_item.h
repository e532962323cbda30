#pragma once
// GraphNodeItem: one box of the network graph, a node or a block, painted directly (no
// child text items) so ~400 of them stay cheap. Its text is laid out in device pixels at
// paint time: it grows with the zoom but is never drawn below kMinTextPx on screen; the
// lines that no longer fit the box at that size are dropped (and no text at all when the
// first line does not fit), so what is drawn is always readable. Clicks, double clicks
// and the context menu go to its view.
//
// Threads: GUI thread only, like every QGraphicsItem.

#include <QFont>
#include <QGraphicsItem>
#include <QStringList>

namespace prunelab::widgets {

class NetworkGraphView;

class GraphNodeItem : public QGraphicsItem {
 public:
  static constexpr int kMinTextPx = 9;  // smallest text drawn, in device pixels

  // `view` outlives the item (it owns the scene); `key` names the unit to the view;
  // `textPx` is the text's height in scene pixels (at zoom 1).
  GraphNodeItem(NetworkGraphView* view, QString key, const QRectF& r, bool emphasised, bool block, double textPx);
  const QString& key() const { return m_key; }
  QColor fill() const { return m_fill; }
  void setFill(const QColor& c);
  void setSelectedBox(bool on);
  // First line bold. Names are elided at their head ("…m.0.cv1.conv"), other lines at
  // their tail, when painted.
  void setLines(const QStringList& lines);
  const QStringList& lines() const { return m_lines; }

  QRectF boundingRect() const override { return m_rect.adjusted(-2, -2, 2, 2); }
  void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) override;

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* e) override;
  void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* e) override;
  void contextMenuEvent(QGraphicsSceneContextMenuEvent* e) override;

 private:
  void refreshCache();  // after the text or fill changed
  // The lines as drawn in a box `width` device pixels wide at `px`: cached, since a
  // repaint at the same zoom (hover, selection) must not elide every line again.
  const QStringList& fitted(int px, double width, double height);

  NetworkGraphView* m_view;
  QString m_key;
  QRectF m_rect;
  bool m_emphasised;
  bool m_block;
  bool m_selected = false;
  QColor m_fill = Qt::white;
  QStringList m_lines;
  double m_textPx;  // the text's height in scene pixels (at zoom 1)
  QFont m_font;
  int m_fittedPx = -1;
  double m_fittedW = -1, m_fittedH = -1;
  QStringList m_fitted;
};

}  // namespace prunelab::widgets
