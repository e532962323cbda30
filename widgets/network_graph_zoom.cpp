// NetworkGraphView's semantic zoom: which level is shown, where, at what zoom; the
// switch between the block and node levels; the minimap. GUI thread.
#include <QEvent>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QLabel>
#include <algorithm>
#include <cmath>

#include "widgets/graph_minimap.h"
#include "widgets/graph_node_item.h"
#include "widgets/network_graph_view.h"

namespace prunelab::widgets {

namespace {

constexpr double kFitMax = 1.5;         // Fit never magnifies a handful of boxes beyond this
constexpr double kMinZoom = 0.02, kMaxZoom = 6.0;  // so the graph can neither vanish nor become one box
constexpr double kNodesEnterZoom = 1.0;   // the node level as the blocks open: 10 px text
constexpr double kBlocksEnterMax = 1.25;  // the block level as the nodes close (< kBlocksMaxZoom)
constexpr double kBlocksTopZoom = 0.45;   // a new model whose blocks fit only below this opens at its top

}  // namespace

// A new model: the whole graph at its readable level, or the top of the blocks at a
// readable zoom when even they do not fit. Expand all: the nodes, the same way. A
// collapse/expand: the same zoom, centred on the scope that changed.
void NetworkGraphView::placeAfterLayout() {
  const QSize vp = viewportSize();
  const double vw = vp.width(), vh = vp.height();
  m_placedUnseen = !m_view->viewport()->isVisible();
  if (m_fitPending || m_nodesTopPending) {
    const bool nodes = m_nodesTopPending;
    m_fitPending = m_nodesTopPending = false;
    if (nodes) showLevel(Level::Nodes);
    else fit();
    if (shown().items.isEmpty()) return;
    const QRectF all = shown().scene->sceneRect();
    const double whole = std::min({vw / all.width(), vh / all.height(), kFitMax});
    const double readable = m_level == Level::Nodes ? kNodeMinZoom : kBlocksTopZoom;
    if (whole >= readable) return fitShown();
    const double s = std::clamp(vw / all.width(), readable, m_level == Level::Nodes ? kNodesEnterZoom : 1.0);
    placeAt(QPointF(all.center().x(), all.top() + vh / (2 * s)), QPointF(vw / 2, vh / 2), s);
    return;
  }
  if (m_focusScope.isEmpty()) return updateMinimap();
  m_fitted = false;
  showLevel(Level::Nodes);
  QRectF r;
  const LevelData& n = data(Level::Nodes);
  for (const GraphUnit& u : n.units.units) {
    const GraphNodeItem* item = n.items.value(u.key);
    if (item && scopeWithin(m_net.nodes[u.nodes[0]].scope, m_focusScope)) r |= item->sceneBoundingRect();
  }
  m_focusScope.clear();
  if (r.isNull()) return updateMinimap();
  const double s = zoom();
  m_view->centerOn(r.height() * s < vh ? r.center() : QPointF(r.center().x(), r.top() + vh / (2 * s) - 20));
  updateMinimap();
}

void NetworkGraphView::showLevel(Level l) {
  if (l == Level::Blocks && !hasBlockLevel()) l = Level::Nodes;
  const bool changed = l != m_level || m_view->scene() != data(l).scene;
  m_level = l;
  if (m_view->scene() != data(l).scene) m_view->setScene(data(l).scene);
  updateStatus();
  updateMinimap();
  if (changed) Q_EMIT levelChanged(l);
}

void NetworkGraphView::fit() {
  if (data(Level::Nodes).items.isEmpty()) return;
  // The nodes when they are readable whole, else the blocks.
  const QSize vp = viewportSize();
  const QRectF all = data(Level::Nodes).scene->sceneRect();
  const double nodes = std::min({vp.width() / all.width(), vp.height() / all.height(), kFitMax});
  showLevel(nodes >= kNodeMinZoom || !hasBlockLevel() ? Level::Nodes : Level::Blocks);
  fitShown();
}

void NetworkGraphView::fitShown() {
  if (shown().items.isEmpty()) return;
  // The scene rect (the boxes and a margin), a hair smaller than the viewport: a rounding
  // pixel over it would bring up a scroll bar.
  const QRectF r = shown().scene->sceneRect();
  const QSize vp = viewportSize();
  const double s = std::clamp(0.99 * std::min(vp.width() / r.width(), vp.height() / r.height()), kMinZoom, kFitMax);
  m_view->setTransform(QTransform::fromScale(s, s));
  m_view->centerOn(r.center());
  m_fitted = true;
  updateMinimap();
}

void NetworkGraphView::placeAt(QPointF scenePoint, QPointF viewportPos, double scale) {
  m_fitted = false;
  m_view->setTransform(QTransform::fromScale(scale, scale));
  const QSize vp = viewportSize();
  const QPointF centre(vp.width() / 2.0, vp.height() / 2.0);
  m_view->centerOn(scenePoint + (centre - viewportPos) / scale);
  updateMinimap();
}

void NetworkGraphView::zoomBy(double factor, QPointF viewportPos) {
  if (shown().items.isEmpty() || factor <= 0) return;
  const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
  const QPointF at = m_view->mapToScene(viewportPos.toPoint());
  if (hasBlockLevel()) {
    if (m_level == Level::Nodes && factor < 1 && target < kNodeMinZoom)
      return switchLevel(Level::Blocks, at, viewportPos);
    if (m_level == Level::Blocks && factor > 1 && target > kBlocksMaxZoom)
      return switchLevel(Level::Nodes, at, viewportPos);
  }
  placeAt(at, viewportPos, target);
}

int NetworkGraphView::unitAt(const LevelData& level, QPointF p) const {
  int best = -1;
  double bestDistance = 0;
  for (int i = 0; i < level.units.units.size(); ++i) {
    const GraphNodeItem* item = level.items.value(level.units.units[i].key);
    if (!item) continue;
    const QRectF r = item->sceneBoundingRect();
    if (r.contains(p)) return i;
    const double dx = std::max({r.left() - p.x(), 0.0, p.x() - r.right()});
    const double dy = std::max({r.top() - p.y(), 0.0, p.y() - r.bottom()});
    if (best < 0 || dx * dx + dy * dy < bestDistance) best = i, bestDistance = dx * dx + dy * dy;
  }
  return best;
}

QVector<QRectF> NetworkGraphView::boxesOf(Level l, const QVector<int>& nodes) const {
  const LevelData& level = data(l);
  QVector<QRectF> boxes;
  QSet<int> done;
  for (int n : nodes) {
    const int u = n < level.units.unitOfNode.size() ? level.units.unitOfNode[n] : -1;
    if (u < 0 || done.contains(u)) continue;
    done.insert(u);
    if (const GraphNodeItem* item = level.items.value(level.units.units[u].key)) boxes << item->sceneBoundingRect();
  }
  return boxes;
}

QRectF NetworkGraphView::extentOf(Level l, const QVector<int>& nodes) const {
  QRectF r;
  for (const QRectF& box : boxesOf(l, nodes)) r |= box;
  return r;
}

// The top-level block under the point is the hinge: the point keeps its relative place in
// that block's box (block level) or in the box around its nodes (node level).
void NetworkGraphView::switchLevel(Level to, QPointF scenePoint, QPointF viewportPos) {
  const Level from = m_level;
  const double before = zoom();
  const int u = unitAt(shown(), scenePoint);
  if (u < 0) return;
  const int node = shown().units.units[u].nodes.first();
  const LevelData& blocks = data(Level::Blocks);
  const QVector<int>& hinge = blocks.units.units[blocks.units.unitOfNode[node]].nodes;
  const QRectF src = extentOf(from, hinge), dst = extentOf(to, hinge);
  if (src.isEmpty() || dst.isEmpty()) return;
  const double fx = std::clamp((scenePoint.x() - src.left()) / src.width(), 0.0, 1.0);
  const double fy = std::clamp((scenePoint.y() - src.top()) / src.height(), 0.0, 1.0);
  QPointF p(dst.left() + fx * dst.width(), dst.top() + fy * dst.height());
  // Onto the nearest of the block's boxes there: the mouse stays over the block's content,
  // not over the gap beside a skip connection.
  QRectF nearest;
  double best = -1;
  for (const QRectF& box : boxesOf(to, hinge)) {
    const QPointF c(std::clamp(p.x(), box.left(), box.right()), std::clamp(p.y(), box.top(), box.bottom()));
    const double d = QLineF(c, p).length();
    if (best < 0 || d < best) best = d, nearest = box;
  }
  if (best > 0) p = QPointF(std::clamp(p.x(), nearest.left() + 2, nearest.right() - 2),
                            std::clamp(p.y(), nearest.top() + 2, nearest.bottom() - 2));
  const double s = to == Level::Nodes ? kNodesEnterZoom
                                      : std::clamp(before * src.height() / dst.height(), kMinZoom, kBlocksEnterMax);
  showLevel(to);
  placeAt(p, viewportPos, s);
}

// A double-click on a block: its nodes, whole if they are readable so, else their top.
void NetworkGraphView::zoomIntoUnit(const QString& key) {
  const LevelData& blocks = data(Level::Blocks);
  const int u = blocks.units.unitIndex.value(key, -1);
  if (u < 0) return;
  const QRectF r = extentOf(Level::Nodes, blocks.units.units[u].nodes).adjusted(-20, -20, 20, 20);
  if (r.isEmpty()) return;
  const QSize vp = viewportSize();
  const double whole = std::min(vp.width() / r.width(), vp.height() / r.height());
  const double s = std::clamp(whole, kNodesEnterZoom, kFitMax);
  showLevel(Level::Nodes);
  const QPointF target = r.height() * s <= vp.height() ? r.center() : QPointF(r.center().x(), r.top() + vp.height() / (2 * s));
  placeAt(target, QPointF(vp.width() / 2.0, vp.height() / 2.0), s);
}

bool NetworkGraphView::eventFilter(QObject* watched, QEvent* e) {
  if (watched == m_view->viewport() && e->type() == QEvent::Resize) {
    // Placed while the view had no size yet (a hidden dock): place again now. Showing Fit
    // (the panels around it settle, the user resizes the window): fit again.
    if ((m_placedUnseen || m_fitted) && m_view->viewport()->isVisible() && layoutReady()) {
      m_placedUnseen = false;
      fit();
    } else {
      updateMinimap();
    }
  }
  return QWidget::eventFilter(watched, e);
}

// The minimap: in the bottom-right corner of the viewport, shown while the graph does not fit.
void NetworkGraphView::updateMinimap() {
  QWidget* vp = m_view->viewport();
  if (shown().items.isEmpty() || vp->width() < 240 || vp->height() < 200) return m_minimap->hide();
  const QRectF visible = m_view->mapToScene(vp->rect()).boundingRect();
  const QRectF all = shown().scene->itemsBoundingRect();
  if (visible.adjusted(-2, -2, 2, 2).contains(all)) return m_minimap->hide();
  m_minimap->syncScene(QSize(std::min(190, vp->width() / 3), std::min(240, vp->height() / 2)));
  const QRect g = vp->geometry();  // in m_view's coordinates
  m_minimap->move(g.right() - m_minimap->width() - 8, g.bottom() - m_minimap->height() - 8);
  m_minimap->show();
  m_minimap->raise();
  m_minimap->viewport()->update();
}

void NetworkGraphView::updateStatus() {
  if (m_level == Level::Blocks)
    m_status->setText(QString("%1 nodes, %2 blocks")
                          .arg(m_net.nodes.size())
                          .arg(data(Level::Blocks).units.units.size()));
  else
    m_status->setText(QString("%1 nodes, %2 boxes").arg(m_net.nodes.size()).arg(data(Level::Nodes).units.units.size()));
}
}  // namespace prunelab::widgets
