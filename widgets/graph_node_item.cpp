#include "widgets/graph_node_item.h"

#include <QApplication>
#include <QFontMetricsF>
#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QPen>
#include <QStyleOptionGraphicsItem>

#include "widgets/graph_palette.h"
#include "widgets/network_graph_view.h"

namespace prunelab::widgets {

GraphNodeItem::GraphNodeItem(NetworkGraphView* view, QString key, const QRectF& r, bool emphasised, bool block)
    : m_view(view), m_key(std::move(key)), m_rect(r), m_emphasised(emphasised), m_block(block) {
  m_font = QApplication::font();
  m_font.setPointSizeF(7.5);
  m_bold = m_font;
  m_bold.setBold(true);
  setCacheMode(QGraphicsItem::DeviceCoordinateCache);
}

void GraphNodeItem::setFill(const QColor& c) {
  if (c != m_fill) m_fill = c, update();
}

void GraphNodeItem::setSelectedBox(bool on) {
  if (on != m_selected) m_selected = on, update();
}

void GraphNodeItem::setLines(const QStringList& lines) {
  QStringList elided;
  for (int i = 0; i < lines.size(); ++i) {
    const QFontMetricsF fm(i == 0 ? m_bold : m_font);
    // Names keep their distinctive tail ("…m.0.cv1.conv"); the op/scope line its head.
    elided << fm.elidedText(lines[i], i == 0 ? Qt::ElideRight : Qt::ElideLeft, m_rect.width() - 8);
  }
  if (elided != m_lines) m_lines = elided, update();
}

void GraphNodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  p->setRenderHint(QPainter::Antialiasing);
  QPen pen(m_selected ? kSelectedPen : kPen, m_selected ? 3.0 : (m_emphasised ? 1.6 : 0.8));
  if (m_block && !m_selected) pen.setStyle(Qt::DashLine);
  p->setPen(pen);
  p->setBrush(m_fill);
  p->drawRoundedRect(m_rect, 5, 5);
  if (option->levelOfDetailFromTransform(p->worldTransform()) < 0.3 || m_lines.isEmpty()) return;
  // Dark fills (viridis' low end) need light text.
  p->setPen(m_fill.lightnessF() < 0.45 ? Qt::white : Qt::black);
  const double lineH = QFontMetricsF(m_font).height();
  double y = m_rect.center().y() - lineH * m_lines.size() / 2;
  for (int i = 0; i < m_lines.size(); ++i, y += lineH) {
    p->setFont(i == 0 ? m_bold : m_font);
    p->drawText(QRectF(m_rect.left() + 4, y, m_rect.width() - 8, lineH), Qt::AlignCenter, m_lines[i]);
  }
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
