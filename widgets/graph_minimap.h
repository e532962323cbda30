#pragma once
// GraphMinimap: the whole scene of a main QGraphicsView in a small view, with the main
// view's visible rectangle framed; pressing or dragging on it centres the main view on
// that point. It draws the same scene (no copy), so boxes and colours follow at once; at
// its scale the boxes draw no text. NetworkGraphView places it in a corner of its view
// and shows it only while the graph does not fit.
//
// Ownership: a child of the main view, which outlives it. Threads: GUI thread only.

#include <QGraphicsView>

namespace prunelab::widgets {

class GraphMinimap : public QGraphicsView {
  Q_OBJECT
 public:
  explicit GraphMinimap(QGraphicsView* main);
  // Follows the main view's scene and fits it into at most `maxSize` pixels (the widget
  // takes the scene's aspect ratio); call when the scene or the main view's size changes.
  void syncScene(QSize maxSize);
  // The main view's visible part of the scene, which the frame shows.
  QRectF visibleSceneRect() const;
  // Where the frame is drawn, in this widget's viewport pixels.
  QRectF frameInViewport() const;

 protected:
  void drawForeground(QPainter* p, const QRectF& rect) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseDoubleClickEvent(QMouseEvent* e) override;
  void wheelEvent(QWheelEvent* e) override;
  void contextMenuEvent(QContextMenuEvent* e) override;

 private:
  void centreMainOn(const QPoint& viewportPos);

  QGraphicsView* m_main;
  bool m_dragging = false;
};

}  // namespace prunelab::widgets
