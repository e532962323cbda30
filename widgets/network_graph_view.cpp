#include "widgets/network_graph_view.h"

#include <QApplication>
#include <QComboBox>
#include <QFontMetricsF>
#include <QGraphicsItem>
#include <QGraphicsPathItem>
#include <QGraphicsScene>
#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsView>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPainter>
#include <QPen>
#include <QStyleOptionGraphicsItem>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "widgets/format.h"
#include "widgets/graph_node_item.h"
#include "widgets/graph_palette.h"

namespace prunelab::widgets {

namespace {

constexpr int kCollapseAbove = 60;  // nodes; larger graphs open collapsed to their blocks
constexpr int kDrillAbove = 40;     // expanding a scope this large shows its sub-blocks collapsed
// `scope` is `outer` or lies below it ("model.2.cv1" is within "model.2", "model.20" is not).
bool within(const QString& scope, const QString& outer) {
  return outer.isEmpty() || scope == outer ||
         (scope.size() > outer.size() && scope.startsWith(outer) && scope[outer.size()] == '.');
}

// The child of `root` that `scope` lies in ("model", "model.2.cv1.conv" -> "model.2").
QString childOf(const QString& root, const QString& scope) {
  const int start = root.isEmpty() ? 0 : root.size() + 1;
  const int dot = scope.indexOf('.', start);
  return dot < 0 ? scope : scope.left(dot);
}

bool isSource(const GraphNodeInfo& n) { return n.channelSource; }

class ZoomView : public QGraphicsView {
 public:
  using QGraphicsView::QGraphicsView;

 protected:
  void wheelEvent(QWheelEvent* e) override {
    // Bounded so the graph can neither vanish nor become one giant box.
    const double now = transform().m11();
    const double f = std::clamp(now * std::pow(1.0015, e->angleDelta().y()), 0.02, 6.0) / now;
    scale(f, f);
    e->accept();
  }
};

}  // namespace

NetworkGraphView::NetworkGraphView(QWidget* parent)
    : QWidget(parent), m_latest(std::make_shared<std::atomic<int>>(0)), m_scene(new QGraphicsScene(this)),
      m_view(new ZoomView(m_scene, this)), m_colour(new QComboBox(this)), m_legend(new QLabel(this)),
      m_status(new QLabel(this)) {
  m_view->setRenderHint(QPainter::Antialiasing);
  m_view->setDragMode(QGraphicsView::ScrollHandDrag);
  m_view->setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
  m_view->setBackgroundBrush(QColor(250, 250, 250));
  m_colour->addItems({"Colour: prune ratio", "Colour: importance", "Colour: dependency group"});
  connect(m_colour, &QComboBox::currentIndexChanged, this, [this](int i) { setColorMode(static_cast<ColorMode>(i)); });
  auto button = [this](const QString& text, const QString& tip, auto slot) {
    auto* b = new QToolButton(this);
    b->setText(text);
    b->setToolTip(tip);
    connect(b, &QToolButton::clicked, this, slot);
    return b;
  };
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  bar->addWidget(m_colour);
  bar->addWidget(button("Fit", "Show the whole graph", [this] { fit(); }));
  bar->addWidget(button("Expand all", "Show every node", [this] { expandAll(); }));
  bar->addWidget(button("Collapse all", "One box per top-level block (model.2, layer1...)",
                        [this] { collapseToBlocks(); }));
  bar->addWidget(m_legend, 1);
  bar->addWidget(m_status);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(bar);
  layout->addWidget(m_view, 1);
  m_legend->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  m_status->setStyleSheet("color: gray");
  setColorMode(ColorMode::PruneRatio);
}

NetworkGraphView::~NetworkGraphView() {
  m_latest->store(-1);  // threads that have not started Graphviz yet skip it
  for (const QPointer<QThread>& t : m_threads)
    if (t) t->wait();
}

QWidget* NetworkGraphView::viewport() const { return m_view->viewport(); }

void NetworkGraphView::setNetwork(const NetworkView& network) {
  m_net = network;
  m_nodeIndex.clear();
  for (int i = 0; i < m_net.nodes.size(); ++i) m_nodeIndex[m_net.nodes[i].name] = i;
  m_collapsed.clear();
  m_focusScope.clear();
  m_fitPending = true;
  if (m_net.nodes.size() > kCollapseAbove) collapseToBlocks();
  else relayout();
}

void NetworkGraphView::updateChannels(const NetworkView& network) {
  if (network.nodes.size() != m_net.nodes.size()) return setNetwork(network);
  for (int i = 0; i < m_net.nodes.size(); ++i) {
    m_net.nodes[i].kept = network.nodes[i].kept;
    m_net.nodes[i].channels = network.nodes[i].channels;
    m_net.nodes[i].importance = network.nodes[i].importance;
    m_net.nodes[i].group = network.nodes[i].group;
    m_net.nodes[i].macs = network.nodes[i].macs;
  }
  recolour();
}

int NetworkGraphView::nodesInScope(const QString& scope) const {
  int n = 0;
  for (const GraphNodeInfo& node : m_net.nodes) n += within(node.scope, scope) ? 1 : 0;
  return n;
}

// Collapses every child scope of `root` holding more than one node, except `except`.
void NetworkGraphView::collapseChildren(const QString& root, const QString& except) {
  QHash<QString, int> count;
  for (const GraphNodeInfo& n : m_net.nodes)
    if (n.scope != root && within(n.scope, root)) ++count[childOf(root, n.scope)];
  for (auto it = count.cbegin(); it != count.cend(); ++it)
    if (it.value() > 1 && it.key() != except) m_collapsed.insert(it.key());
}

void NetworkGraphView::collapseToBlocks() {
  m_collapsed.clear();
  // Descend through wrappers that hold most of the model (YOLO's "model", MobileNet's
  // "features") so the blocks are model.2 / features.3 rather than one giant box.
  QString root;
  for (int depth = 0; depth < 8; ++depth) {
    QHash<QString, int> count;
    int total = 0;
    for (const GraphNodeInfo& n : m_net.nodes)
      if (n.scope != root && within(n.scope, root)) ++count[childOf(root, n.scope)], ++total;
    QString big;
    for (auto it = count.cbegin(); it != count.cend(); ++it)
      if (it.value() * 2 > total) big = it.key();
    collapseChildren(root, big);
    if (big.isEmpty()) break;
    root = big;
  }
  relayout();
}

void NetworkGraphView::expandAll() {
  m_collapsed.clear();
  m_focusScope.clear();
  relayout();
}

void NetworkGraphView::collapseScope(const QString& scope) {
  if (scope.isEmpty()) return;
  m_collapsed.insert(scope);
  m_focusScope = scope;
  relayout();
}

void NetworkGraphView::expandScope(const QString& scope) {
  bool changed = m_collapsed.remove(scope);
  for (auto it = m_collapsed.begin(); it != m_collapsed.end();) {  // nested ones reappear expanded
    if (within(*it, scope)) {
      it = m_collapsed.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (!changed) return;
  // A big block (a YOLO C2f with bottlenecks) opens one level at a time.
  if (nodesInScope(scope) > kDrillAbove) collapseChildren(scope, QString());
  m_focusScope = scope;
  relayout();
}

QString NetworkGraphView::parentScopeOf(int node) const {
  QString scope = m_net.nodes[node].scope;
  for (int dot = scope.lastIndexOf('.'); dot > 0; dot = scope.lastIndexOf('.')) {
    scope = scope.left(dot);
    if (nodesInScope(scope) > 1) return scope;
  }
  return QString();
}

void NetworkGraphView::buildUnits() {
  m_units.clear();
  m_unitIndex.clear();
  m_unitOfNode = QVector<int>(m_net.nodes.size(), -1);
  for (int i = 0; i < m_net.nodes.size(); ++i) {
    const GraphNodeInfo& n = m_net.nodes[i];
    QString key = n.name;
    for (int from = 0; !m_collapsed.isEmpty();) {  // the outermost collapsed scope holding the node
      const int dot = n.scope.indexOf('.', from);
      const QString prefix = dot < 0 ? n.scope : n.scope.left(dot);
      if (m_collapsed.contains(prefix)) {
        key = "[" + prefix + "]";
        break;
      }
      if (dot < 0) break;
      from = dot + 1;
    }
    auto it = m_unitIndex.find(key);
    if (it == m_unitIndex.end()) {
      Unit u;
      u.key = key;
      u.block = key.startsWith('[');
      u.emphasised = u.block || isSource(n);
      it = m_unitIndex.insert(key, m_units.size());
      m_units.push_back(u);
    }
    m_units[it.value()].nodes.push_back(i);
    m_unitOfNode[i] = it.value();
  }
}

void NetworkGraphView::relayout() {
  buildUnits();
  LayoutInput in;
  for (const Unit& u : m_units) in.nodes.push_back({u.key, u.block ? 170.0 : 150.0, u.block ? 40.0 : 32.0});
  QSet<QPair<int, int>> seen;
  for (const GraphEdge& e : m_net.edges) {
    if (e.from < 0 || e.to < 0 || e.from >= m_net.nodes.size() || e.to >= m_net.nodes.size()) continue;
    const int a = m_unitOfNode[e.from], b = m_unitOfNode[e.to];
    if (a == b || seen.contains({a, b})) continue;
    seen.insert({a, b});
    in.edges.push_back({a, b});
  }
  const int generation = ++m_generation;
  m_latest->store(generation);
  m_pendingEdges = in.edges;
  m_status->setText("laying out...");
  QPointer<NetworkGraphView> self(this);
  std::shared_ptr<std::atomic<int>> latest = m_latest;
  QThread* t = QThread::create([in, generation, latest, self] {
    // Superseded while queued behind another layout (Graphviz runs one at a time): skip it.
    if (latest->load() != generation) return;
    GraphLayout l = computeLayout(in);
    if (latest->load() != generation) return;
    // Delivered on the GUI thread, where `self` can be checked safely.
    QMetaObject::invokeMethod(
        qApp,
        [self, l, generation] {
          if (self) self->applyLayout(l, generation);
        },
        Qt::QueuedConnection);
  });
  connect(t, &QThread::finished, t, &QObject::deleteLater);
  m_threads.removeAll(nullptr);
  m_threads.push_back(t);
  t->start(QThread::LowPriority);
}

void NetworkGraphView::applyLayout(const GraphLayout& l, int generation) {
  if (generation != m_generation) return;  // superseded by a newer request
  m_laidOut = generation;
  m_scene->clear();
  m_items.clear();
  if (!l.error.isEmpty()) {
    m_status->setText(l.error);
    Q_EMIT layoutFinished();
    return;
  }
  // All edges in two items (lines, arrow heads): hundreds of separate path items would
  // dominate hit-testing and repaint.
  QPainterPath lines, heads;
  for (int i = 0; i < m_pendingEdges.size() && i < l.edges.size(); ++i) {
    const QPainterPath& p = l.edges[i];
    if (p.isEmpty()) continue;
    lines.addPath(p);
    const QPointF tip = p.pointAtPercent(1.0), back = p.pointAtPercent(0.96);
    const double a = std::atan2(tip.y() - back.y(), tip.x() - back.x());
    QPolygonF head;
    head << tip << tip - QPointF(std::cos(a - 0.45) * 7, std::sin(a - 0.45) * 7)
         << tip - QPointF(std::cos(a + 0.45) * 7, std::sin(a + 0.45) * 7) << tip;
    heads.addPolygon(head);
  }
  m_scene->addPath(lines, QPen(kEdge, 1.0))->setZValue(-1);
  m_scene->addPath(heads, QPen(kEdge, 1.0), QBrush(kEdge))->setZValue(-1);
  for (int i = 0; i < m_units.size() && i < l.boxes.size(); ++i) {
    const Unit& u = m_units[i];
    auto* item = new GraphNodeItem(this, u.key, l.boxes[i], u.emphasised, u.block);
    m_scene->addItem(item);
    m_items[u.key] = item;
  }
  m_scene->setSceneRect(l.bounds.adjusted(-20, -20, 20, 20));
  recolour();
  const int selected = m_nodeIndex.value(m_selected, -1);
  if (selected >= 0)
    if (GraphNodeItem* item = m_items.value(m_units[m_unitOfNode[selected]].key)) item->setSelectedBox(true);
  placeAfterLayout();
  m_status->setText(QString("%1 nodes, %2 boxes").arg(m_net.nodes.size()).arg(m_units.size()));
  Q_EMIT layoutFinished();
}

// A new model: the whole graph if it stays readable, else its top at a readable width.
// A collapse/expand: the same zoom, centred on the scope that changed.
void NetworkGraphView::placeAfterLayout() {
  if (m_items.isEmpty()) return;
  const QRectF all = m_scene->itemsBoundingRect().adjusted(-20, -20, 20, 20);
  const double vw = std::max(1, m_view->viewport()->width()), vh = std::max(1, m_view->viewport()->height());
  if (m_fitPending) {
    m_fitPending = false;
    const double whole = std::min({vw / all.width(), vh / all.height(), 1.5});
    if (whole >= 0.45) return fit();
    const double s = std::clamp(vw / all.width(), 0.45, 1.0);
    m_view->resetTransform();
    m_view->scale(s, s);
    m_view->centerOn(all.center().x(), all.top() + vh / (2 * s));
    return;
  }
  if (m_focusScope.isEmpty()) return;
  QRectF r;
  for (const Unit& u : m_units) {
    const GraphNodeItem* item = m_items.value(u.key);
    if (item && within(m_net.nodes[u.nodes[0]].scope, m_focusScope)) r |= item->sceneBoundingRect();
  }
  m_focusScope.clear();
  if (r.isNull()) return;
  const double s = m_view->transform().m11();
  m_view->centerOn(r.height() * s < vh ? r.center() : QPointF(r.center().x(), r.top() + vh / (2 * s) - 20));
}

void NetworkGraphView::fit() {
  if (m_items.isEmpty()) return;
  const QRectF r = m_scene->itemsBoundingRect().adjusted(-20, -20, 20, 20);
  m_view->fitInView(r, Qt::KeepAspectRatio);
  // A handful of boxes would otherwise be blown up to fill the panel.
  if (m_view->transform().m11() > 1.5) {
    m_view->resetTransform();
    m_view->scale(1.5, 1.5);
    m_view->centerOn(r.center());
  }
}

void NetworkGraphView::setColorMode(ColorMode mode) {
  m_mode = mode;
  if (m_colour->currentIndex() != static_cast<int>(mode)) m_colour->setCurrentIndex(static_cast<int>(mode));
  updateLegend();
  recolour();
}

// A small pixmap legend next to the combo: a scale (or swatches) plus the grey of "no data".
void NetworkGraphView::updateLegend() {
  const double dpr = devicePixelRatioF();
  QFont f = font();
  f.setPointSizeF(std::max(7.0, f.pointSizeF() - 1));
  const QFontMetrics fm(f);
  const int h = fm.height() + 4, bar = 70;
  QPixmap pm(QSize(380, h) * dpr);
  pm.setDevicePixelRatio(dpr);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.setFont(f);
  p.setPen(palette().color(QPalette::WindowText));
  int x = 6;
  auto text = [&](const QString& s) {
    p.drawText(QRect(x, 0, fm.horizontalAdvance(s) + 2, h), Qt::AlignVCenter, s);
    x += fm.horizontalAdvance(s) + 6;
  };
  auto swatch = [&](const QColor& c) {
    p.fillRect(QRect(x, 3, 12, h - 6), c);
    p.drawRect(QRect(x, 3, 12, h - 6));
    x += 16;
  };
  auto scale = [&](auto colourAt) {
    for (int i = 0; i < bar; ++i) p.fillRect(QRect(x + i, 3, 1, h - 6), colourAt(double(i) / (bar - 1)));
    p.drawRect(QRect(x, 3, bar, h - 6));
    x += bar + 6;
  };
  switch (m_mode) {
    case ColorMode::PruneRatio:
      text("kept");
      scale([](double t) { return pruneColour(t); });
      text("pruned");
      break;
    case ColorMode::Importance:
      text("low");
      scale([](double t) { return importanceColour(t); });
      text("high");
      break;
    case ColorMode::Group:
      for (int g = 0; g < 5; ++g) swatch(groupColour(g));
      text("pruned together");
      break;
  }
  x += 6;
  swatch(kNoData);
  text("no channels");
  p.end();
  m_legend->setPixmap(pm);
}

QColor NetworkGraphView::colourOf(const Unit& u) const {
  int channels = 0, kept = 0, group = -2, scored = 0;
  double importance = 0;
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    if (u.block && !isSource(n)) continue;  // a block is summarised by its convs
    channels += n.channels;
    kept += n.kept;
    if (n.group >= 0) importance += n.importance, ++scored;
    group = group == -2 ? n.group : (group == n.group ? group : -1);
  }
  switch (m_mode) {
    case ColorMode::PruneRatio:
      return channels > 0 ? pruneColour(1.0 - double(kept) / channels) : kNoData;
    case ColorMode::Importance:
      return scored ? importanceColour(importance / scored) : kNoData;
    case ColorMode::Group:
      return groupColour(group);  // a block spanning several groups is grey
  }
  return Qt::white;
}

// Box text: op (and kept/total) over the name; a block: scope and node count over MACs and kept/total.
QStringList NetworkGraphView::linesOf(const Unit& u) const {
  if (!u.block) {
    const GraphNodeInfo& n = m_net.nodes[u.nodes[0]];
    return {n.channels > 0 ? QString("%1  %2/%3").arg(n.op).arg(n.kept).arg(n.channels) : n.op, n.name};
  }
  qint64 macs = 0;
  int channels = 0, kept = 0;
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    macs += n.macs;
    if (isSource(n)) channels += n.channels, kept += n.kept;
  }
  QString second = formatCount(double(macs)) + " MACs";
  if (channels > 0) second += QString("   %1/%2").arg(kept).arg(channels);
  return {QString("%1  (%2)").arg(u.key.mid(1, u.key.size() - 2)).arg(u.nodes.size()), second};
}

QString NetworkGraphView::tooltipOf(const Unit& u) const {
  if (!u.block) {
    const GraphNodeInfo& n = m_net.nodes[u.nodes[0]];
    QString t = QString("<b>%1</b> (%2)<br>output %3").arg(n.name, n.op, n.shape.isEmpty() ? "-" : n.shape);
    if (n.channels > 0) t += QString("<br>channels kept %1 / %2").arg(n.kept).arg(n.channels);
    t += "<br>MACs " + formatCount(double(n.macs));
    if (n.group >= 0) t += QString("<br>dependency group %1, importance %2").arg(n.group).arg(n.importance, 0, 'f', 2);
    return t + "<br><i>double-click: collapse its block</i>";
  }
  qint64 macs = 0;
  int convs = 0, channels = 0, kept = 0;
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    macs += n.macs;
    if (isSource(n)) ++convs, channels += n.channels, kept += n.kept;
  }
  return QString("<b>%1</b><br>%2 nodes, %3 conv/linear<br>channels kept %4 / %5<br>MACs %6<br>"
                 "<i>double-click: expand</i>")
      .arg(u.key.mid(1, u.key.size() - 2))
      .arg(u.nodes.size())
      .arg(convs)
      .arg(kept)
      .arg(channels)
      .arg(formatCount(double(macs)));
}

void NetworkGraphView::recolour() {
  for (const Unit& u : m_units) {
    GraphNodeItem* item = m_items.value(u.key);
    if (!item) continue;
    item->setFill(colourOf(u));
    item->setLines(linesOf(u));
    item->setToolTip(tooltipOf(u));
  }
}

void NetworkGraphView::selectLayer(const QString& name) {
  m_selected = name;
  const int index = m_nodeIndex.value(name, -1);
  const QString key = index >= 0 && index < m_unitOfNode.size() ? m_units[m_unitOfNode[index]].key : QString();
  for (GraphNodeItem* item : std::as_const(m_items)) {
    const bool on = item->key() == key;
    item->setSelectedBox(on);
    // Centred unless already well in view: a click in the graph comes back here through the
    // workbench and must not make the graph jump under the mouse.
    const QRect inView = m_view->mapFromScene(item->sceneBoundingRect()).boundingRect();
    if (on && !m_view->viewport()->rect().adjusted(20, 20, -20, -20).contains(inView)) m_view->centerOn(item);
  }
}

void NetworkGraphView::unitClicked(const QString& key) {
  const Unit& u = m_units[m_unitIndex.value(key)];
  // A block selects its first prunable conv (else its first node); a node selects itself.
  int pick = u.nodes[0];
  if (u.block) {
    for (int i : u.nodes) {
      if (isSource(m_net.nodes[i]) && m_net.nodes[i].group >= 0) {
        pick = i;
        break;
      }
    }
  }
  m_selected = m_net.nodes[pick].name;
  for (GraphNodeItem* item : std::as_const(m_items)) item->setSelectedBox(item->key() == key);
  Q_EMIT layerClicked(m_selected);
}

void NetworkGraphView::unitDoubleClicked(const QString& key) {
  if (key.startsWith('[')) return expandScope(key.mid(1, key.size() - 2));
  const int index = m_nodeIndex.value(key, -1);
  if (index >= 0) collapseScope(parentScopeOf(index));
}

void NetworkGraphView::unitMenu(const QString& key, const QPoint& screenPos) {
  QMenu menu;
  if (key.startsWith('[')) {
    const QString scope = key.mid(1, key.size() - 2);
    menu.addAction("Expand " + scope, this, [this, scope] { expandScope(scope); });
  } else if (const int index = m_nodeIndex.value(key, -1); index >= 0) {
    const QString parent = parentScopeOf(index);
    if (!parent.isEmpty()) menu.addAction("Collapse " + parent, this, [this, parent] { collapseScope(parent); });
  }
  menu.addSeparator();
  menu.addAction("Expand all", this, [this] { expandAll(); });
  menu.addAction("Collapse all", this, [this] { collapseToBlocks(); });
  menu.exec(screenPos);
}

QStringList NetworkGraphView::visibleKeys() const {
  QStringList keys;
  for (const Unit& u : m_units) keys << u.key;
  return keys;
}

QPoint NetworkGraphView::viewportPointOf(const QString& key) const {
  const GraphNodeItem* item = m_items.value(key);
  return item ? m_view->mapFromScene(item->sceneBoundingRect().center()) : QPoint(-1, -1);
}

QRectF NetworkGraphView::sceneBoxOf(const QString& key) const {
  const GraphNodeItem* item = m_items.value(key);
  return item ? item->sceneBoundingRect().adjusted(2, 2, -2, -2) : QRectF();
}

QColor NetworkGraphView::fillOf(const QString& key) const {
  const GraphNodeItem* item = m_items.value(key);
  return item ? item->fill() : QColor();
}

QImage NetworkGraphView::sceneImage(int maxWidth) const {
  const QRectF r = m_scene->itemsBoundingRect().adjusted(-12, -12, 12, 12);
  if (r.isEmpty()) return {};
  const double scale = std::min(2.0, maxWidth / r.width());
  QImage img(QSize(qRound(r.width() * scale), qRound(r.height() * scale)), QImage::Format_ARGB32_Premultiplied);
  img.fill(Qt::white);
  QPainter p(&img);
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  m_scene->render(&p, QRectF(QPointF(0, 0), img.size()), r);
  return img;
}

}  // namespace prunelab::widgets
