#include "widgets/network_graph_view.h"

#include <QApplication>
#include <QComboBox>
#include <QGraphicsItem>
#include <QGraphicsPathItem>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPainter>
#include <QPen>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "widgets/graph_minimap.h"
#include "widgets/graph_node_item.h"
#include "widgets/graph_palette.h"
#include "widgets/palette.h"

namespace prunelab::widgets {

namespace {

constexpr int kDrillAbove = 40;         // expanding a scope this large shows its sub-blocks collapsed
// Boxes and text in scene pixels. The block level is a chain of ~20 boxes on a YOLO or a
// ResNet: tall boxes close together, so that Fit in a portrait panel leaves room for both
// lines of every block.
constexpr QSizeF kNodeBox(150, 32), kBlockBox(320, 72);
constexpr double kNodeTextPx = 10, kBlockTextPx = 14;
constexpr double kNodeRankSep = 0.35, kBlockRankSep = 0.18;  // inches

// Wheel zoom goes to the owner, which decides the level.
class ZoomView : public QGraphicsView {
 public:
  ZoomView(NetworkGraphView* owner, QWidget* parent) : QGraphicsView(parent), m_owner(owner) {}

 protected:
  void wheelEvent(QWheelEvent* e) override {
    m_owner->zoomBy(std::pow(1.0015, e->angleDelta().y()), e->position());
    e->accept();
  }

 private:
  NetworkGraphView* m_owner;
};

}  // namespace

NetworkGraphView::NetworkGraphView(QWidget* parent)
    : QWidget(parent), m_latest(std::make_shared<std::atomic<int>>(0)), m_view(new ZoomView(this, this)),
      m_minimap(nullptr), m_colour(new QComboBox(this)), m_legend(new QLabel(this)), m_status(new QLabel(this)) {
  for (LevelData& l : m_levels) l.scene = new QGraphicsScene(this);
  m_view->setScene(data(m_level).scene);
  m_view->setRenderHint(QPainter::Antialiasing);
  m_view->setDragMode(QGraphicsView::ScrollHandDrag);
  m_view->setTransformationAnchor(QGraphicsView::AnchorViewCenter);  // zoomBy() anchors itself
  m_view->setBackgroundBrush(QColor(250, 250, 250));
  m_view->viewport()->installEventFilter(this);
  m_minimap = new GraphMinimap(m_view);
  m_minimap->hide();
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
  bar->addWidget(button("Fit", "Show the whole graph (as blocks when its nodes would be too small to read)",
                        [this] { fit(); }));
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
  m_status->setStyleSheet("color: " + palette::css(palette::muted()));
  setColorMode(ColorMode::PruneRatio);
}

NetworkGraphView::~NetworkGraphView() {
  m_latest->store(-1);  // threads that have not started Graphviz yet skip it
  for (const QPointer<QThread>& t : m_threads)
    if (t) t->wait();
}

QWidget* NetworkGraphView::viewport() const { return m_view->viewport(); }

double NetworkGraphView::zoom() const { return m_view->transform().m11(); }

bool NetworkGraphView::hasBlockLevel() const {
  const LevelData& b = data(Level::Blocks);
  return !b.items.isEmpty() && b.units.units.size() < m_net.nodes.size();
}

QSize NetworkGraphView::viewportSize() const {
  if (m_view->viewport()->isVisible()) return m_view->viewport()->size();
  // Never shown: the layout has not sized the view yet; the widget's own size is close.
  return QSize(std::max(1, width() - 4), std::max(1, height() - 30));
}

namespace {

// Same nodes (names, scopes, ops) and edges: a new snapshot of the same model (training).
bool sameStructure(const NetworkView& a, const NetworkView& b) {
  if (a.nodes.size() != b.nodes.size() || a.edges.size() != b.edges.size()) return false;
  for (int i = 0; i < a.nodes.size(); ++i)
    if (a.nodes[i].name != b.nodes[i].name || a.nodes[i].scope != b.nodes[i].scope || a.nodes[i].op != b.nodes[i].op)
      return false;
  for (int i = 0; i < a.edges.size(); ++i)
    if (a.edges[i].from != b.edges[i].from || a.edges[i].to != b.edges[i].to) return false;
  return true;
}

}  // namespace

void NetworkGraphView::setNetwork(const NetworkView& network) {
  // A snapshot of the same structure (every training epoch) keeps the layout, the level and
  // the user's zoom; only the values change.
  if (m_generation > 0 && sameStructure(network, m_net)) {
    m_net = network;
    return recolour();
  }
  m_net = network;
  m_nodeIndex.clear();
  for (int i = 0; i < m_net.nodes.size(); ++i) m_nodeIndex[m_net.nodes[i].name] = i;
  m_collapsed.clear();
  m_focusScope.clear();
  m_fitPending = true;
  m_nodesTopPending = false;
  relayout(true);
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

QStringList NetworkGraphView::keysOf(Level level) const { return data(level).items.keys(); }

QStringList NetworkGraphView::linesOf(Level level, const QString& key) const {
  const GraphNodeItem* item = data(level).items.value(key);
  return item ? item->lines() : QStringList();
}

int NetworkGraphView::nodesInScope(const QString& scope) const {
  int n = 0;
  for (const GraphNodeInfo& node : m_net.nodes) n += scopeWithin(node.scope, scope) ? 1 : 0;
  return n;
}

void NetworkGraphView::collapseToBlocks() {
  if (!hasBlockLevel()) return;
  showLevel(Level::Blocks);
  fitShown();
}

void NetworkGraphView::expandAll() {
  m_focusScope.clear();
  if (m_collapsed.isEmpty()) {  // the node level is already complete
    m_nodesTopPending = true;
    return placeAfterLayout();
  }
  m_collapsed.clear();
  m_nodesTopPending = true;
  relayout(false);
}

void NetworkGraphView::collapseScope(const QString& scope) {
  if (scope.isEmpty()) return;
  m_collapsed.insert(scope);
  m_focusScope = scope;
  relayout(false);
}

void NetworkGraphView::expandScope(const QString& scope) {
  bool changed = m_collapsed.remove(scope);
  for (auto it = m_collapsed.begin(); it != m_collapsed.end();) {  // nested ones reappear expanded
    if (scopeWithin(*it, scope)) {
      it = m_collapsed.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (!changed) return;
  // A big block (a YOLO C2f with bottlenecks) opens one level at a time.
  if (nodesInScope(scope) > kDrillAbove) m_collapsed.unite(childBlocks(m_net, scope, QString()));
  m_focusScope = scope;
  relayout(false);
}

QString NetworkGraphView::parentScopeOf(int node) const {
  QString scope = m_net.nodes[node].scope;
  for (int dot = scope.lastIndexOf('.'); dot > 0; dot = scope.lastIndexOf('.')) {
    scope = scope.left(dot);
    if (nodesInScope(scope) > 1) return scope;
  }
  return QString();
}

namespace {

// At the block level every box is block-sized, a lone top-level node (YOLO's Upsample,
// Concat) as well, so that its text is as readable as the blocks'.
LayoutInput layoutInput(const GraphUnits& g, bool blockLevel) {
  LayoutInput in;
  for (const GraphUnit& u : g.units) {
    const QSizeF s = blockLevel || u.block ? kBlockBox : kNodeBox;
    in.nodes.push_back({u.key, s.width(), s.height()});
  }
  in.edges = g.edges;
  in.rankSep = blockLevel ? kBlockRankSep : kNodeRankSep;
  return in;
}

}  // namespace

// Both levels' units are rebuilt here, at request time, so a result always matches them
// (older results are dropped by generation).
void NetworkGraphView::relayout(bool blocksToo) {
  blocksToo = blocksToo || m_blocksPending;  // a superseded request must not lose the blocks
  data(Level::Nodes).units = groupUnits(m_net, m_collapsed);
  const LayoutInput nodesIn = layoutInput(data(Level::Nodes).units, false);
  LayoutInput blocksIn;
  if (blocksToo) {
    data(Level::Blocks).units = groupUnits(m_net, topLevelBlocks(m_net));
    blocksIn = layoutInput(data(Level::Blocks).units, true);
    m_blocksPending = true;
  }
  const int generation = ++m_generation;
  m_latest->store(generation);
  m_status->setText("laying out...");
  QPointer<NetworkGraphView> self(this);
  std::shared_ptr<std::atomic<int>> latest = m_latest;
  QThread* t = QThread::create([nodesIn, blocksIn, blocksToo, generation, latest, self] {
    // Superseded while queued behind another layout (Graphviz runs one at a time): skip it.
    if (latest->load() != generation) return;
    GraphLayout blocks;
    if (blocksToo) blocks = computeLayout(blocksIn);
    if (latest->load() != generation) return;
    GraphLayout nodes = computeLayout(nodesIn);
    if (latest->load() != generation) return;
    // Delivered on the GUI thread, where `self` can be checked safely.
    QMetaObject::invokeMethod(
        qApp,
        [self, nodes, blocks, blocksToo, generation] {
          if (self) self->applyLayout(nodes, blocks, blocksToo, generation);
        },
        Qt::QueuedConnection);
  });
  connect(t, &QThread::finished, t, &QObject::deleteLater);
  m_threads.removeAll(nullptr);
  m_threads.push_back(t);
  t->start(QThread::LowPriority);
}

void NetworkGraphView::fillScene(LevelData& level, const GraphLayout& l) {
  level.scene->clear();
  level.items.clear();
  if (!l.error.isEmpty()) return;
  // All edges in two items (lines, arrow heads): hundreds of separate path items would
  // dominate hit-testing and repaint.
  QPainterPath lines, heads;
  for (int i = 0; i < level.units.edges.size() && i < l.edges.size(); ++i) {
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
  level.scene->addPath(lines, QPen(kEdge, 1.0))->setZValue(-1);
  level.scene->addPath(heads, QPen(kEdge, 1.0), QBrush(kEdge))->setZValue(-1);
  for (int i = 0; i < level.units.units.size() && i < l.boxes.size(); ++i) {
    const GraphUnit& u = level.units.units[i];
    const bool large = u.block || &level == &data(Level::Blocks);
    auto* item = new GraphNodeItem(this, u.key, l.boxes[i], u.emphasised, u.block, large ? kBlockTextPx : kNodeTextPx);
    level.scene->addItem(item);
    level.items[u.key] = item;
  }
  level.scene->setSceneRect(l.bounds.adjusted(-20, -20, 20, 20));
}

void NetworkGraphView::applyLayout(const GraphLayout& nodes, const GraphLayout& blocks, bool withBlocks,
                                   int generation) {
  if (generation != m_generation) return;  // superseded by a newer request
  m_laidOut = generation;
  if (withBlocks) {
    fillScene(data(Level::Blocks), blocks);
    m_blocksPending = false;
  }
  fillScene(data(Level::Nodes), nodes);
  const QString error = !nodes.error.isEmpty() ? nodes.error : (withBlocks ? blocks.error : QString());
  if (!error.isEmpty()) {
    m_status->setText(error);
    Q_EMIT layoutFinished();
    return;
  }
  recolour();
  markSelection();
  placeAfterLayout();
  updateStatus();
  Q_EMIT layoutFinished();
}

void NetworkGraphView::recolour() {
  for (const LevelData& level : m_levels) {
    for (const GraphUnit& u : level.units.units) {
      GraphNodeItem* item = level.items.value(u.key);
      if (!item) continue;
      item->setFill(colourOf(u));
      item->setLines(linesOf(u));
      item->setToolTip(tooltipOf(u));
    }
  }
}

// The selected node's box on both levels (its block, or its collapsed scope).
void NetworkGraphView::markSelection() {
  const int node = m_nodeIndex.value(m_selected, -1);
  for (const LevelData& level : m_levels) {
    const int u = node >= 0 && node < level.units.unitOfNode.size() ? level.units.unitOfNode[node] : -1;
    const QString key = u >= 0 ? level.units.units[u].key : QString();
    for (GraphNodeItem* item : level.items) item->setSelectedBox(item->key() == key);
  }
}

void NetworkGraphView::selectLayer(const QString& name) {
  m_selected = name;
  markSelection();
  const int node = m_nodeIndex.value(name, -1);
  const LevelData& level = shown();
  if (node < 0 || node >= level.units.unitOfNode.size()) return;
  const GraphNodeItem* item = level.items.value(level.units.units[level.units.unitOfNode[node]].key);
  if (!item) return;
  // Centred unless already well in view: a click in the graph comes back here through the
  // workbench and must not make the graph jump under the mouse.
  const QRect inView = m_view->mapFromScene(item->sceneBoundingRect()).boundingRect();
  if (!m_view->viewport()->rect().adjusted(20, 20, -20, -20).contains(inView)) m_view->centerOn(item);
}

void NetworkGraphView::unitClicked(const QString& key) {
  const LevelData& level = shown();
  const int index = level.units.unitIndex.value(key, -1);
  if (index < 0) return;
  const GraphUnit& u = level.units.units[index];
  // A block selects its first prunable conv (else its first node); a node selects itself.
  int pick = u.nodes[0];
  if (u.block) {
    for (int i : u.nodes) {
      if (m_net.nodes[i].channelSource && m_net.nodes[i].group >= 0) {
        pick = i;
        break;
      }
    }
  }
  m_selected = m_net.nodes[pick].name;
  markSelection();
  Q_EMIT layerClicked(m_selected);
}

void NetworkGraphView::unitDoubleClicked(const QString& key) {
  if (m_level == Level::Blocks) return zoomIntoUnit(key);
  if (key.startsWith('[')) return expandScope(key.mid(1, key.size() - 2));
  const int index = m_nodeIndex.value(key, -1);
  if (index >= 0) collapseScope(parentScopeOf(index));
}

void NetworkGraphView::unitMenu(const QString& key, const QPoint& screenPos) {
  QMenu menu;
  if (m_level == Level::Blocks) {
    const QString name = key.startsWith('[') ? key.mid(1, key.size() - 2) : key;
    menu.addAction("Show the nodes of " + name, this, [this, key] { zoomIntoUnit(key); });
  } else if (key.startsWith('[')) {
    const QString scope = key.mid(1, key.size() - 2);
    menu.addAction("Expand " + scope, this, [this, scope] { expandScope(scope); });
  } else if (const int index = m_nodeIndex.value(key, -1); index >= 0) {
    const QString parent = parentScopeOf(index);
    if (!parent.isEmpty()) menu.addAction("Collapse " + parent, this, [this, parent] { collapseScope(parent); });
  }
  menu.addSeparator();
  menu.addAction("Fit", this, [this] { fit(); });
  menu.addAction("Expand all", this, [this] { expandAll(); });
  menu.addAction("Collapse all", this, [this] { collapseToBlocks(); });
  menu.exec(screenPos);
}

QStringList NetworkGraphView::visibleKeys() const {
  QStringList keys;
  for (const GraphUnit& u : shown().units.units) keys << u.key;
  return keys;
}

namespace {

// The item for `key` on the shown level, else on the other one (a node hidden behind its block).
template <typename Levels>
GraphNodeItem* findItem(const Levels& levels, int shown, const QString& key) {
  if (GraphNodeItem* item = levels[shown].items.value(key)) return item;
  return levels[1 - shown].items.value(key);
}

}  // namespace

QPoint NetworkGraphView::viewportPointOf(const QString& key) const {
  const GraphNodeItem* item = shown().items.value(key);
  return item ? m_view->mapFromScene(item->sceneBoundingRect().center()) : QPoint(-1, -1);
}

QRectF NetworkGraphView::sceneBoxOf(const QString& key) const {
  const GraphNodeItem* item = findItem(m_levels, m_level == Level::Blocks ? 0 : 1, key);
  return item ? item->sceneBoundingRect().adjusted(2, 2, -2, -2) : QRectF();
}

QColor NetworkGraphView::fillOf(const QString& key) const {
  const GraphNodeItem* item = findItem(m_levels, m_level == Level::Blocks ? 0 : 1, key);
  return item ? item->fill() : QColor();
}

QImage NetworkGraphView::sceneImage(int maxWidth) const {
  const QRectF r = shown().scene->itemsBoundingRect().adjusted(-12, -12, 12, 12);
  if (r.isEmpty()) return {};
  const double scale = std::min(2.0, maxWidth / r.width());
  QImage img(QSize(qRound(r.width() * scale), qRound(r.height() * scale)), QImage::Format_ARGB32_Premultiplied);
  img.fill(Qt::white);
  QPainter p(&img);
  p.setRenderHint(QPainter::Antialiasing);
  p.setRenderHint(QPainter::TextAntialiasing);
  shown().scene->render(&p, QRectF(QPointF(0, 0), img.size()), r);
  return img;
}

}  // namespace prunelab::widgets
