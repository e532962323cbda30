#include "widgets/graph_minimap.h"

#include <QContextMenuEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QScrollBar>
#include <QWheelEvent>
#include <algorithm>

#include "widgets/graph_palette.h"

namespace prunelab::widgets {

GraphMinimap::GraphMinimap(QGraphicsView* main) : QGraphicsView(main), m_main(main) {
  setObjectName("graph_minimap");
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setInteractive(false);  // the boxes under it must not take clicks meant for panning
  setRenderHint(QPainter::Antialiasing);
  setBackgroundBrush(QColor(255, 255, 255, 235));
  setFrameShape(QFrame::Box);
  setCursor(Qt::PointingHandCursor);
  setToolTip("Overview: click or drag to move the view");
  // Redraw the frame whenever the main view scrolls (zooming scrolls too).
  for (QScrollBar* bar : {main->horizontalScrollBar(), main->verticalScrollBar()}) {
    connect(bar, &QScrollBar::valueChanged, viewport(), qOverload<>(&QWidget::update));
    connect(bar, &QScrollBar::rangeChanged, viewport(), qOverload<>(&QWidget::update));
  }
}

void GraphMinimap::syncScene(QSize maxSize) {
  if (scene() != m_main->scene()) setScene(m_main->scene());
  if (!scene()) return;
  const QRectF r = scene()->sceneRect();
  if (r.isEmpty()) return;
  const int frame = 2 * frameWidth();
  const double s = std::min((maxSize.width() - frame) / r.width(), (maxSize.height() - frame) / r.height());
  // A tall graph would make a sliver: at least 64 px wide, the scene centred in it.
  resize(std::max(64, int(r.width() * s) + frame), std::max(48, int(r.height() * s) + frame));
  setSceneRect(r);
  fitInView(r, Qt::KeepAspectRatio);
  viewport()->update();
}

QRectF GraphMinimap::visibleSceneRect() const {
  return m_main->mapToScene(m_main->viewport()->rect()).boundingRect().intersected(sceneRect());
}

QRectF GraphMinimap::frameInViewport() const { return mapFromScene(visibleSceneRect()).boundingRect(); }

void GraphMinimap::drawForeground(QPainter* p, const QRectF&) {
  const QRectF visible = visibleSceneRect();
  // Shade what is out of view, frame what is in it (cosmetic pen: 2 px at any scale).
  QPainterPath outside;
  outside.addRect(sceneRect());
  QPainterPath inside;
  inside.addRect(visible);
  p->fillPath(outside.subtracted(inside), QColor(0, 0, 0, 28));
  QPen pen(kSelectedPen, 2);
  pen.setCosmetic(true);
  p->setPen(pen);
  p->setBrush(Qt::NoBrush);
  p->drawRect(visible);
}

void GraphMinimap::centreMainOn(const QPoint& viewportPos) {
  m_main->centerOn(mapToScene(viewportPos));
  viewport()->update();
}

void GraphMinimap::mousePressEvent(QMouseEvent* e) {
  if (e->button() != Qt::LeftButton) return e->ignore();
  m_dragging = true;
  centreMainOn(e->position().toPoint());
  e->accept();
}

void GraphMinimap::mouseMoveEvent(QMouseEvent* e) {
  if (m_dragging) centreMainOn(e->position().toPoint());
  e->accept();
}

void GraphMinimap::mouseReleaseEvent(QMouseEvent* e) {
  m_dragging = false;
  e->accept();
}

void GraphMinimap::mouseDoubleClickEvent(QMouseEvent* e) { e->accept(); }
void GraphMinimap::wheelEvent(QWheelEvent* e) { e->accept(); }  // zooming is the main view's
void GraphMinimap::contextMenuEvent(QContextMenuEvent* e) { e->accept(); }

}  // namespace prunelab::widgets
