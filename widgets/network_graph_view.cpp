#include "widgets/network_graph_view.h"

#include <QApplication>
#include <QComboBox>
#include <QGraphicsPathItem>
#include <QGraphicsRectItem>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsView>
#include <QHBoxLayout>
#include <QLabel>
#include <QPen>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <cmath>

#include "widgets/format.h"

namespace prunelab::widgets {

namespace {

constexpr int kCollapseAbove = 60;  // nodes; larger graphs open collapsed to their blocks

// The block a scope belongs to: its first two components ("model.2.cv1.conv" -> "model.2").
QString blockOf(const QString& scope) {
  const QStringList parts = scope.split('.');
  return parts.size() > 2 ? parts[0] + '.' + parts[1] : QString();
}

QColor mix(const QColor& a, const QColor& b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return QColor::fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                          a.blueF() + (b.blueF() - a.blueF()) * t);
}

// A perceptually ordered dark-blue -> green -> yellow scale for importance.
QColor importanceColour(double v) {
  static const QColor stops[] = {QColor(68, 1, 84), QColor(59, 82, 139), QColor(33, 145, 140), QColor(94, 201, 98),
                                 QColor(253, 231, 37)};
  v = std::clamp(v, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(v));
  return mix(stops[i], stops[i + 1], v - i);
}

class ZoomView : public QGraphicsView {
 public:
  using QGraphicsView::QGraphicsView;

 protected:
  void wheelEvent(QWheelEvent* e) override {
    const double f = std::pow(1.0015, e->angleDelta().y());
    scale(f, f);
    e->accept();
  }
};

}  // namespace

// One box: a node, or a collapsed block.
class GraphNodeItem : public QGraphicsRectItem {
 public:
  GraphNodeItem(NetworkGraphView* view, QString key, const QRectF& r, const QString& label, bool emphasised)
      : QGraphicsRectItem(r), m_view(view), m_key(std::move(key)) {
    setAcceptHoverEvents(true);
    setPen(QPen(QColor(90, 90, 90), emphasised ? 1.6 : 0.8));
    auto* text = new QGraphicsSimpleTextItem(label, this);
    QFont f = QApplication::font();
    f.setPointSizeF(7.5);
    f.setBold(emphasised);
    text->setFont(f);
    QString elided = label;
    while (text->boundingRect().width() > r.width() - 6 && elided.size() > 4) {
      elided.chop(2);
      text->setText(elided + "…");
    }
    const QRectF tb = text->boundingRect();
    text->setPos(r.center().x() - tb.width() / 2, r.center().y() - tb.height() / 2);
  }
  const QString& key() const { return m_key; }

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* e) override {
    if (e->button() == Qt::LeftButton) m_view->unitClicked(m_key);
    e->accept();
  }
  void mouseDoubleClickEvent(QGraphicsSceneMouseEvent* e) override {
    m_view->unitDoubleClicked(m_key);
    e->accept();
  }

 private:
  NetworkGraphView* m_view;
  QString m_key;
};

NetworkGraphView::NetworkGraphView(QWidget* parent)
    : QWidget(parent), m_scene(new QGraphicsScene(this)), m_view(new ZoomView(m_scene, this)),
      m_colour(new QComboBox(this)), m_legend(new QLabel(this)), m_status(new QLabel(this)) {
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
  bar->addWidget(button("Collapse", "One box per block (model.2, layer1.0...)", [this] { collapseToBlocks(); }));
  bar->addWidget(m_legend, 1);
  bar->addWidget(m_status);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(bar);
  layout->addWidget(m_view, 1);
  m_legend->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  setColorMode(ColorMode::PruneRatio);
}

NetworkGraphView::~NetworkGraphView() {
  for (const QPointer<QThread>& t : m_threads)
    if (t) t->wait();
}

QWidget* NetworkGraphView::viewport() const { return m_view->viewport(); }

void NetworkGraphView::setNetwork(const NetworkView& network) {
  m_net = network;
  m_nodeIndex.clear();
  for (int i = 0; i < m_net.nodes.size(); ++i) m_nodeIndex[m_net.nodes[i].name] = i;
  m_collapsed.clear();
  if (m_net.nodes.size() > kCollapseAbove) collapseToBlocks();
  else relayout();
  m_fitPending = true;
}

void NetworkGraphView::updateChannels(const NetworkView& network) {
  if (network.nodes.size() != m_net.nodes.size()) return setNetwork(network);
  for (int i = 0; i < m_net.nodes.size(); ++i) {
    m_net.nodes[i].kept = network.nodes[i].kept;
    m_net.nodes[i].channels = network.nodes[i].channels;
    m_net.nodes[i].importance = network.nodes[i].importance;
  }
  recolour();
}

void NetworkGraphView::collapseToBlocks() {
  QHash<QString, int> count;
  for (const auto& n : m_net.nodes) {
    const QString b = blockOf(n.scope);
    if (!b.isEmpty()) ++count[b];
  }
  m_collapsed.clear();
  for (auto it = count.begin(); it != count.end(); ++it)
    if (it.value() > 1) m_collapsed.insert(it.key());
  relayout();
}

void NetworkGraphView::expandAll() {
  m_collapsed.clear();
  relayout();
}

void NetworkGraphView::collapseScope(const QString& scope) {
  if (scope.isEmpty()) return;
  m_collapsed.insert(scope);
  relayout();
}

void NetworkGraphView::expandScope(const QString& scope) {
  if (m_collapsed.remove(scope)) relayout();
}

QString NetworkGraphView::unitOfNode(int index) const {
  const GraphNodeInfo& n = m_net.nodes[index];
  const QString b = blockOf(n.scope);
  if (!b.isEmpty() && m_collapsed.contains(b)) return "[" + b + "]";
  return n.name;
}

void NetworkGraphView::buildUnits() {
  m_units.clear();
  m_unitIndex.clear();
  for (int i = 0; i < m_net.nodes.size(); ++i) {
    const QString key = unitOfNode(i);
    auto it = m_unitIndex.find(key);
    if (it == m_unitIndex.end()) {
      Unit u;
      u.key = key;
      u.block = key.startsWith('[');
      const GraphNodeInfo& n = m_net.nodes[i];
      u.label = u.block ? key.mid(1, key.size() - 2) : n.op + "  " + n.name;
      it = m_unitIndex.insert(key, m_units.size());
      m_units.push_back(u);
    }
    m_units[it.value()].nodes.push_back(i);
  }
}

void NetworkGraphView::relayout() {
  buildUnits();
  LayoutInput in;
  for (const Unit& u : m_units) {
    const bool conv = !u.block && (m_net.nodes[u.nodes[0]].op == "Conv" || m_net.nodes[u.nodes[0]].op == "Linear");
    in.nodes.push_back({u.key, u.block ? 170.0 : 150.0, u.block ? 38.0 : (conv ? 30.0 : 24.0)});
  }
  QSet<QPair<int, int>> seen;
  for (const GraphEdge& e : m_net.edges) {
    if (e.from < 0 || e.to < 0 || e.from >= m_net.nodes.size() || e.to >= m_net.nodes.size()) continue;
    const int a = m_unitIndex.value(unitOfNode(e.from)), b = m_unitIndex.value(unitOfNode(e.to));
    if (a == b || seen.contains({a, b})) continue;
    seen.insert({a, b});
    in.edges.push_back({a, b});
  }
  const int generation = ++m_generation;
  m_status->setText("laying out...");
  QPointer<NetworkGraphView> self(this);
  QThread* t = QThread::create([in, generation, self] {
    GraphLayout l = computeLayout(in);
    // Delivered on the GUI thread, where `self` can be checked safely.
    QMetaObject::invokeMethod(qApp, [self, l, generation] {
      if (self) self->applyLayout(l, generation);
    }, Qt::QueuedConnection);
  });
  connect(t, &QThread::finished, t, &QObject::deleteLater);
  m_threads.removeAll(nullptr);
  m_threads.push_back(t);
  t->start(QThread::LowPriority);
  // Edges of this request, kept for applyLayout via the generation's unit list.
  m_pendingEdges = in.edges;
}

void NetworkGraphView::applyLayout(const GraphLayout& l, int generation) {
  if (generation != m_generation) return;  // superseded by a newer request
  m_laidOut = generation;
  m_scene->clear();
  m_items.clear();
  if (!l.error.isEmpty()) {
    m_status->setText(l.error);
    return;
  }
  const QPen edgePen(QColor(120, 120, 120), 1.0);
  for (int i = 0; i < m_pendingEdges.size() && i < l.edges.size(); ++i) {
    if (l.edges[i].isEmpty()) continue;
    m_scene->addPath(l.edges[i], edgePen)->setZValue(-1);
    // Arrow head at the end of the spline.
    const QPainterPath& p = l.edges[i];
    const QPointF tip = p.pointAtPercent(1.0), back = p.pointAtPercent(0.96);
    const double a = std::atan2(tip.y() - back.y(), tip.x() - back.x());
    QPolygonF head;
    head << tip << tip - QPointF(std::cos(a - 0.45) * 7, std::sin(a - 0.45) * 7)
         << tip - QPointF(std::cos(a + 0.45) * 7, std::sin(a + 0.45) * 7);
    m_scene->addPolygon(head, edgePen, QBrush(QColor(120, 120, 120)))->setZValue(-1);
  }
  for (int i = 0; i < m_units.size() && i < l.boxes.size(); ++i) {
    const Unit& u = m_units[i];
    const bool conv = !u.block && (m_net.nodes[u.nodes[0]].op == "Conv" || m_net.nodes[u.nodes[0]].op == "Linear");
    auto* item = new GraphNodeItem(this, u.key, l.boxes[i], u.label, conv || u.block);
    m_scene->addItem(item);
    m_items[u.key] = item;
  }
  m_scene->setSceneRect(l.bounds.adjusted(-20, -20, 20, 20));
  recolour();
  if (!m_selected.isEmpty()) selectLayer(m_selected);
  if (m_fitPending) {
    fit();
    m_fitPending = false;
  }
  m_status->setText(QString("%1 nodes, %2 boxes").arg(m_net.nodes.size()).arg(m_units.size()));
  Q_EMIT layoutFinished();
}

void NetworkGraphView::fit() {
  if (m_items.isEmpty()) return;
  // Fit the width of the graph; tall graphs scroll vertically instead of shrinking to dots.
  const QRectF r = m_scene->itemsBoundingRect();
  const double sx = m_view->viewport()->width() / std::max(1.0, r.width() + 40);
  const double sy = m_view->viewport()->height() / std::max(1.0, r.height() + 40);
  double s = std::min(sx, sy);
  if (s < 0.45) s = std::min(sx, 1.0);
  m_view->resetTransform();
  m_view->scale(s, s);
  m_view->centerOn(r.center().x(), r.top() + m_view->viewport()->height() / (2 * s));
}

void NetworkGraphView::setColorMode(ColorMode mode) {
  m_mode = mode;
  if (m_colour->currentIndex() != static_cast<int>(mode)) m_colour->setCurrentIndex(static_cast<int>(mode));
  switch (mode) {
    case ColorMode::PruneRatio: m_legend->setText("  white kept → red pruned"); break;
    case ColorMode::Importance: m_legend->setText("  purple low → yellow high"); break;
    case ColorMode::Group: m_legend->setText("  colour = group pruned together"); break;
  }
  recolour();
}

QColor NetworkGraphView::colourOf(const Unit& u) const {
  int channels = 0, kept = 0, group = -2;
  double importance = 0;
  int scored = 0;
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    const bool source = n.op == "Conv" || n.op == "Linear";
    if (u.block && !source) continue;
    channels += n.channels;
    kept += n.kept;
    if (n.group >= 0) importance += n.importance, ++scored;
    group = group == -2 ? n.group : (group == n.group ? group : -1);
  }
  switch (m_mode) {
    case ColorMode::PruneRatio:
      if (channels <= 0) return QColor(232, 232, 232);
      return mix(QColor(255, 255, 255), QColor(220, 50, 40), 1.0 - double(kept) / channels);
    case ColorMode::Importance:
      return scored ? importanceColour(importance / scored) : QColor(232, 232, 232);
    case ColorMode::Group:
      if (group < 0) return QColor(232, 232, 232);
      return QColor::fromHsv((group * 47) % 360, 110, 245);
  }
  return Qt::white;
}

QString NetworkGraphView::tooltipOf(const Unit& u) const {
  if (!u.block) {
    const GraphNodeInfo& n = m_net.nodes[u.nodes[0]];
    QString t = QString("<b>%1</b> (%2)<br>output %3").arg(n.name, n.op, n.shape);
    if (n.channels > 0) t += QString("<br>channels kept %1 / %2").arg(n.kept).arg(n.channels);
    if (n.macs > 0) t += "<br>MACs " + formatCount(double(n.macs));
    if (n.group >= 0) t += QString("<br>dependency group %1").arg(n.group);
    return t + "<br><i>double-click: collapse its block</i>";
  }
  qint64 macs = 0;
  int convs = 0, channels = 0, kept = 0;
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    macs += n.macs;
    if (n.op == "Conv" || n.op == "Linear") ++convs, channels += n.channels, kept += n.kept;
  }
  return QString("<b>%1</b><br>%2 nodes, %3 conv/linear<br>channels kept %4 / %5<br>MACs %6<br>"
                 "<i>double-click: expand</i>")
      .arg(u.label)
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
    item->setBrush(colourOf(u));
    item->setToolTip(tooltipOf(u));
  }
}

void NetworkGraphView::selectLayer(const QString& name) {
  m_selected = name;
  const int index = m_nodeIndex.value(name, -1);
  const QString key = index >= 0 ? unitOfNode(index) : QString();
  for (GraphNodeItem* item : m_items) {
    const bool on = item->key() == key;
    QPen p = item->pen();
    p.setColor(on ? QColor(0, 120, 215) : QColor(90, 90, 90));
    p.setWidthF(on ? 3.0 : (p.widthF() > 1.5 ? 1.6 : 0.8));
    item->setPen(p);
    if (on) m_view->ensureVisible(item, 40, 40);
  }
}

void NetworkGraphView::unitClicked(const QString& key) {
  const Unit& u = m_units[m_unitIndex.value(key)];
  // A block selects its first prunable conv; a node selects itself.
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    if (!u.block || ((n.op == "Conv" || n.op == "Linear") && n.group >= 0)) {
      m_selected = n.name;
      selectLayer(n.name);
      Q_EMIT layerClicked(n.name);
      return;
    }
  }
}

void NetworkGraphView::unitDoubleClicked(const QString& key) {
  if (key.startsWith('[')) return expandScope(key.mid(1, key.size() - 2));
  const int index = m_nodeIndex.value(key, -1);
  if (index >= 0) collapseScope(blockOf(m_net.nodes[index].scope));
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

QColor NetworkGraphView::fillOf(const QString& key) const {
  const GraphNodeItem* item = m_items.value(key);
  return item ? item->brush().color() : QColor();
}

}  // namespace prunelab::widgets
