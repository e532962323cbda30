#include "widgets/graph_node_item.h"

#include <QApplication>
#include <QFontMetricsF>
#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QPen>
#include <QStyleOptionGraphicsItem>
#include <algorithm>
#include <cmath>

#include "widgets/graph_palette.h"
#include "widgets/network_graph_view.h"

namespace prunelab::widgets {

namespace {

QFont withPixelSize(QFont f, int px, bool bold) {
  f.setPixelSize(px);
  f.setBold(bold);
  return f;
}

}  // namespace

GraphNodeItem::GraphNodeItem(NetworkGraphView* view, QString key, const QRectF& r, bool emphasised, bool block,
                             double textPx)
    : m_view(view), m_key(std::move(key)), m_rect(r), m_emphasised(emphasised), m_block(block), m_textPx(textPx),
      m_font(QApplication::font()) {
  setCacheMode(QGraphicsItem::DeviceCoordinateCache);
}

void GraphNodeItem::setFill(const QColor& c) {
  if (c == m_fill) return;
  m_fill = c;
  refreshCache();
}

// The device-coordinate cache keeps the old text and fill until it is dropped: update()
// alone left plan and cut labels unpainted in window grabs (the scene said 9/16, the
// picture 16/16). Changing the cache mode drops it.
void GraphNodeItem::refreshCache() {
  setCacheMode(QGraphicsItem::NoCache);
  setCacheMode(QGraphicsItem::DeviceCoordinateCache);
  update();
}

void GraphNodeItem::setSelectedBox(bool on) {
  if (on != m_selected) m_selected = on, update();
}

void GraphNodeItem::setLines(const QStringList& lines) {
  if (lines == m_lines) return;
  m_lines = lines;
  m_fittedPx = -1;
  refreshCache();
}

const QStringList& GraphNodeItem::fitted(int px, double width, double height) {
  if (px == m_fittedPx && width == m_fittedW && height == m_fittedH) return m_fitted;
  m_fittedPx = px, m_fittedW = width, m_fittedH = height;
  m_fitted.clear();
  for (int i = 0; i < m_lines.size(); ++i) {
    const QFontMetricsF fm(withPixelSize(m_font, px, i == 0));
    if (fm.height() * (i + 1) > height) break;
    // A node's name keeps its distinctive tail; a block's name and the other lines their head.
    const bool name = i == 1 && !m_block;
    const QString e = fm.elidedText(m_lines[i], name ? Qt::ElideLeft : Qt::ElideRight, width);
    // A stub ("m…") says nothing: no text rather than unreadable text.
    if (e.size() < std::min<qsizetype>(m_lines[i].size(), 5)) break;
    m_fitted << e;
  }
  return m_fitted;
}

void GraphNodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) {
  p->setRenderHint(QPainter::Antialiasing);
  QPen pen(m_selected ? kSelectedPen : kPen, m_selected ? 3.0 : (m_emphasised ? 1.6 : 0.8));
  if (m_block && !m_selected) pen.setStyle(Qt::DashLine);
  p->setPen(pen);
  p->setBrush(m_fill);
  p->drawRoundedRect(m_rect, 5, 5);
  if (m_lines.isEmpty()) return;
  // Text in device pixels: the zoom scales it, down to kMinTextPx and no further.
  const QTransform world = p->worldTransform();
  const double scale = std::sqrt(std::abs(world.determinant()));
  const QRectF box = world.mapRect(m_rect).adjusted(4, 1, -4, -1);
  const int px = std::max(kMinTextPx, int(std::lround(m_textPx * scale)));
  const QStringList& lines = fitted(px, box.width(), box.height());
  if (lines.isEmpty()) return;
  p->save();
  p->setWorldTransform(QTransform());  // the painter's own device: viewport or item cache
  // Dark fills (viridis' low end) need light text.
  p->setPen(m_fill.lightnessF() < 0.45 ? Qt::white : Qt::black);
  double total = 0;
  for (int i = 0; i < lines.size(); ++i) total += QFontMetricsF(withPixelSize(m_font, px, i == 0)).height();
  double y = box.center().y() - total / 2;
  for (int i = 0; i < lines.size(); ++i) {
    const QFont f = withPixelSize(m_font, px, i == 0);
    const double h = QFontMetricsF(f).height();
    p->setFont(f);
    p->drawText(QRectF(box.left(), y, box.width(), h), Qt::AlignCenter, lines[i]);
    y += h;
  }
  p->restore();
}

void GraphNodeItem::mousePressEvent(QGraphicsSceneMouseEvent* e) {
  if (e->button() == Qt::LeftButton) m_view->unitClicked(m_key);
  e->accept();  // and the view does not start a hand drag
}

void GraphNodeItem::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* e) {
  if (e->button() == Qt::LeftButton) m_view->unitDoubleClicked(m_key);
  e->accept();
}

void GraphNodeItem::contextMenuEvent(QGraphicsSceneContextMenuEvent* e) {
  m_view->unitMenu(m_key, e->screenPos());
  e->accept();
}

}  // namespace prunelab::widgets
