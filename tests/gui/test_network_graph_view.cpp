// NetworkGraphView on its own (offscreen): Graphviz layout off the GUI thread, rank order,
// clicks, collapse/expand, recolouring without re-layout, superseded requests, 400 nodes,
// the switch between the block and node levels (test_graph_zoom measures the text drawn).

#include <QApplication>
#include <QElapsedTimer>
#include <QGraphicsItem>
#include <QGraphicsView>
#include <QMouseEvent>
#include <QScrollBar>
#include <QtTest/QtTest>

#include "../support/graph_view_events.h"
#include "widgets/graph_minimap.h"
#include "widgets/network_graph_view.h"

using namespace prunelab::widgets;
using prunelab::test::graphicsView;
using prunelab::test::wheel;

namespace {

GraphNodeInfo node(NetworkView& v, const QString& name, const QString& op, int channels, int group,
                   qint64 macs = 0) {
  GraphNodeInfo n;
  n.id = v.nodes.size();
  n.name = name;
  n.scope = name;  // as core does: a node's scope is its module path
  n.op = op;
  n.channelSource = op == "Conv" || op == "Linear";  // as core's op table says
  n.shape = channels > 0 ? QString("1x%1x16x16").arg(channels) : QString("1x10");
  n.channels = channels;
  n.kept = channels;
  n.group = group;
  n.macs = macs;
  n.importance = group >= 0 ? 0.5 : 0.0;
  v.nodes.push_back(n);
  return n;
}

// 10 nodes, scopes "stem" (3 nodes) and "block" (5 nodes, a residual add), plus a head.
NetworkView smallNet() {
  NetworkView v;
  node(v, "stem.conv", "Conv", 16, 0, 1000000);
  node(v, "stem.bn", "BatchNorm", 16, 0);
  node(v, "stem.act", "ReLU", 16, 0);
  node(v, "block.conv1", "Conv", 32, 1, 12300000);
  node(v, "block.bn1", "BatchNorm", 32, 1);
  node(v, "block.act1", "ReLU", 32, 1);
  node(v, "block.conv2", "Conv", 16, 0, 12300000);
  node(v, "block.add", "Add", 16, 0);
  node(v, "pool", "GlobalAvgPool", 16, 0);
  node(v, "fc", "Linear", 10, -1, 160);
  for (int i = 1; i < v.nodes.size(); ++i) v.edges.push_back({i - 1, i});
  v.edges.push_back({2, 7});  // the skip connection
  return v;
}

// `n` nodes in a chain, four per block "model.i" (conv, bn, act, add).
NetworkView chain(int n) {
  NetworkView v;
  const char* ops[] = {"Conv", "BatchNorm", "SiLU", "Add"};
  for (int i = 0; i < n; ++i) {
    node(v, QString("model.%1.n%2").arg(i / 4).arg(i % 4), ops[i % 4], 32, i / 4, 1000);
    if (i > 0) v.edges.push_back({i - 1, i});
  }
  return v;
}

}  // namespace

class TestNetworkGraphView : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void laysOutDownwardsWithoutOverlap();
  void clickEmitsAndSelectDoesNot();
  void tooltipShowsShapeChannelsAndMacs();
  void collapseAndExpand();
  void updateChannelsRecoloursOnly();
  void colourModes();
  void newerRequestWins();
  void wheelZooms();
  void dragPans();
  void largeChainLaysOut();
  void semanticZoomKeepsTheBlockUnderTheMouse();
  void doubleClickOpensABlock();
  void fitHoldsWhileResizing();
  void blocksOfANetworkWithoutGroups();
  void sameStructureKeepsTheZoom();
};

void TestNetworkGraphView::laysOutDownwardsWithoutOverlap() {
  NetworkGraphView view;
  view.resize(700, 900);
  view.show();
  const NetworkView net = smallNet();
  view.setNetwork(net);
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  QCOMPARE(view.visibleKeys().size(), net.nodes.size());  // small graphs open expanded

  const QStringList keys = view.visibleKeys();
  for (int i = 0; i < keys.size(); ++i) {
    const QRectF a = view.sceneBoxOf(keys[i]);
    QVERIFY(!a.isNull());
    for (int j = i + 1; j < keys.size(); ++j)
      QVERIFY2(!a.intersects(view.sceneBoxOf(keys[j])), qPrintable(keys[i] + " overlaps " + keys[j]));
  }
  for (const GraphEdge& e : net.edges) {  // rankdir=TB: every edge points down a rank
    const QRectF from = view.sceneBoxOf(net.nodes[e.from].name), to = view.sceneBoxOf(net.nodes[e.to].name);
    QVERIFY2(to.top() >= from.bottom(), qPrintable(net.nodes[e.from].name + " -> " + net.nodes[e.to].name));
    QVERIFY(view.viewportPointOf(net.nodes[e.to].name).y() > view.viewportPointOf(net.nodes[e.from].name).y());
  }
}

void TestNetworkGraphView::clickEmitsAndSelectDoesNot() {
  NetworkGraphView view;
  view.resize(700, 900);
  view.show();
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  view.fit();

  QSignalSpy clicked(&view, &NetworkGraphView::layerClicked);
  QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("block.conv1"));
  QCOMPARE(clicked.count(), 1);
  QCOMPARE(clicked.at(0).at(0).toString(), QString("block.conv1"));

  // Clicking the background emits nothing (it starts a pan).
  QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(3, 3));
  QCOMPARE(clicked.count(), 1);

  view.selectLayer("fc");
  view.selectLayer("no.such.layer");
  QCOMPARE(clicked.count(), 1);
}

void TestNetworkGraphView::tooltipShowsShapeChannelsAndMacs() {
  NetworkGraphView view;
  view.resize(700, 900);
  view.show();
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  view.fit();
  QGraphicsView* gv = graphicsView(view);
  QVERIFY(gv);
  const QGraphicsItem* item = gv->itemAt(view.viewportPointOf("block.conv1"));
  QVERIFY(item);
  const QString tip = item->toolTip();
  QVERIFY2(tip.contains("block.conv1") && tip.contains("Conv") && tip.contains("1x32x16x16"), qPrintable(tip));
  QVERIFY2(tip.contains("32 / 32") && tip.contains("12.30 M"), qPrintable(tip));
}

void TestNetworkGraphView::collapseAndExpand() {
  NetworkGraphView view;
  view.resize(700, 900);
  view.show();
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);

  view.collapseScope("block");
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  QCOMPARE(view.visibleKeys().size(), 6);  // stem x3, [block], pool, fc
  QVERIFY(view.visibleKeys().contains("[block]"));
  // The reroute: stem.act feeds the block once (two original edges), the block feeds pool.
  QVERIFY(view.sceneBoxOf("[block]").top() >= view.sceneBoxOf("stem.act").bottom());
  QVERIFY(view.sceneBoxOf("pool").top() >= view.sceneBoxOf("[block]").bottom());

  // Selecting a layer inside the block highlights the block; clicking the block selects its first conv.
  view.fit();
  QSignalSpy clicked(&view, &NetworkGraphView::layerClicked);
  QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("[block]"));
  QCOMPARE(clicked.count(), 1);
  QCOMPARE(clicked.at(0).at(0).toString(), QString("block.conv1"));

  // Double-click the block: expanded again.
  QTest::mouseDClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("[block]"));
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady() && view.visibleKeys().size() == 10, 20000);

  // Double-click a node: its parent scope collapses.
  view.fit();
  QTest::mouseDClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("stem.bn"));
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady() && view.visibleKeys().contains("[stem]"), 20000);
  QCOMPARE(view.visibleKeys().size(), 8);

  view.expandAll();
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady() && view.visibleKeys().size() == 10, 20000);
}

void TestNetworkGraphView::updateChannelsRecoloursOnly() {
  NetworkGraphView view;
  view.resize(700, 900);
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  const QRectF box = view.sceneBoxOf("block.conv1");
  QCOMPARE(view.fillOf("block.conv1"), QColor(Qt::white));  // nothing pruned yet
  QCOMPARE(view.fillOf("pool"), QColor(Qt::white));

  QSignalSpy laidOut(&view, &NetworkGraphView::layoutFinished);
  NetworkView pruned = smallNet();
  pruned.nodes[3].kept = 8;  // 75 % of block.conv1 planned away
  view.updateChannels(pruned);
  QVERIFY(view.layoutReady());  // no new request was made
  const QColor after = view.fillOf("block.conv1");
  QVERIFY2(after.red() > 200 && after.green() < 120, qPrintable(after.name()));
  QCOMPARE(view.fillOf("stem.conv"), QColor(Qt::white));
  QTest::qWait(200);
  QCOMPARE(laidOut.count(), 0);
  QCOMPARE(view.sceneBoxOf("block.conv1"), box);
}

void TestNetworkGraphView::colourModes() {
  NetworkGraphView view;
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  view.setColorMode(NetworkGraphView::ColorMode::Group);
  QVERIFY(view.fillOf("stem.conv") != view.fillOf("block.conv1"));  // groups 0 and 1
  QCOMPARE(view.fillOf("stem.conv"), view.fillOf("block.conv2"));  // both group 0
  const QColor none = view.fillOf("fc");                            // group -1: grey
  QCOMPARE(none.red(), none.green());
  QCOMPARE(none.green(), none.blue());
  view.setColorMode(NetworkGraphView::ColorMode::Importance);
  QVERIFY(view.fillOf("stem.conv") != none);
  QCOMPARE(view.fillOf("fc"), none);
}

void TestNetworkGraphView::newerRequestWins() {
  NetworkGraphView view;
  view.setNetwork(chain(200));
  view.setNetwork(smallNet());  // supersedes the first before it can arrive
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  QCOMPARE(view.visibleKeys().size(), 10);
  QTest::qWait(300);  // a stale result arriving late must not replace it
  QCOMPARE(view.visibleKeys().size(), 10);
  QVERIFY(!view.sceneBoxOf("fc").isNull());
}

void TestNetworkGraphView::wheelZooms() {
  NetworkGraphView view;
  view.resize(700, 900);
  view.show();
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  QGraphicsView* gv = graphicsView(view);
  const double before = gv->transform().m11();
  const QPointF at = view.viewportPointOf("block.conv1");
  wheel(gv, at, 120);
  QVERIFY(gv->transform().m11() > before * 1.1);
}

// README (Workbench 2): dragging the background pans the graph.
void TestNetworkGraphView::dragPans() {
  NetworkGraphView view;
  view.resize(600, 600);
  view.show();
  view.setNetwork(smallNet());
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  QGraphicsView* gv = graphicsView(view);
  QWidget* port = gv->viewport();
  const QPointF centre(port->width() / 2.0, port->height() / 2.0);
  for (int i = 0; i < 6; ++i) wheel(gv, centre, 120);  // zoom in until the graph no longer fits
  QScrollBar* vertical = gv->verticalScrollBar();
  QScrollBar* horizontal = gv->horizontalScrollBar();
  QVERIFY2(vertical->maximum() > 200 || horizontal->maximum() > 200, "zoomed in, the graph still fits");
  // A background point (no node under it) away from the edges.
  QPoint from;
  for (int y = 150; y < port->height() - 150 && from.isNull(); y += 10)
    for (int x = 150; x < port->width() - 150 && from.isNull(); x += 10)
      if (!gv->itemAt(QPoint(x, y))) from = QPoint(x, y);
  QVERIFY2(!from.isNull(), "no background to grab");
  const int v0 = vertical->value(), h0 = horizontal->value();
  const QPoint to = from - QPoint(vertical->maximum() > 200 ? 0 : 120, vertical->maximum() > 200 ? 120 : 0);
  const auto send = [&](QEvent::Type type, QPoint at, Qt::MouseButton button, Qt::MouseButtons held) {
    QMouseEvent e(type, QPointF(at), QPointF(port->mapToGlobal(at)), button, held, Qt::NoModifier);
    QApplication::sendEvent(port, &e);
  };
  send(QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
  for (int step = 1; step <= 4; ++step) send(QEvent::MouseMove, from + (to - from) * step / 4, Qt::NoButton, Qt::LeftButton);
  send(QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton);
  const int moved = std::abs(vertical->value() - v0) + std::abs(horizontal->value() - h0);
  QVERIFY2(moved >= 60, qPrintable(QString("the view moved by %1 px for a 120 px drag").arg(moved)));
}

void TestNetworkGraphView::largeChainLaysOut() {
  NetworkGraphView view;
  view.resize(800, 800);
  view.show();
  QElapsedTimer timer;
  timer.start();
  view.setNetwork(chain(400));  // > 60 nodes: one box per block model.i
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  QCOMPARE(view.visibleKeys().size(), 100);
  QVERIFY(view.visibleKeys().contains("[model.7]"));
  view.expandAll();
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 120000);
  QCOMPARE(view.visibleKeys().size(), 400);
  QVERIFY(view.sceneBoxOf("model.99.n3").top() > view.sceneBoxOf("model.0.n0").bottom());
  qInfo("400-node chain: collapsed + expanded layouts in %lld ms", static_cast<long long>(timer.elapsed()));
  // Repainting the whole expanded graph stays cheap.
  view.fit();
  QElapsedTimer paint;
  paint.start();
  view.grab();
  qInfo("full repaint of 400 boxes: %lld ms", static_cast<long long>(paint.elapsed()));
}

// Wheel in over a block until its nodes open: the node under the mouse is one of that
// block's, and wheeling back out lands on the block again.
void TestNetworkGraphView::semanticZoomKeepsTheBlockUnderTheMouse() {
  NetworkGraphView view;
  view.resize(800, 800);
  view.show();
  view.setNetwork(chain(200));  // 50 blocks of 4
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  view.fit();
  QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
  QVERIFY(view.hasBlockLevel());
  QGraphicsView* gv = graphicsView(view);
  // A block near the middle, brought under a point of the viewport.
  view.selectLayer("model.30.n0");
  const QPoint at = view.viewportPointOf("[model.30]");
  QVERIFY(gv->viewport()->rect().contains(at));
  QSignalSpy levels(&view, &NetworkGraphView::levelChanged);
  for (int i = 0; i < 40 && view.level() == NetworkGraphView::Level::Blocks; ++i) view.zoomBy(1.2, at);
  QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
  QCOMPARE(levels.count(), 1);
  QVERIFY(view.zoom() >= NetworkGraphView::kNodeMinZoom);
  QCOMPARE(view.visibleKeys().size(), 200);
  const QGraphicsItem* under = gv->itemAt(at);
  QVERIFY2(under && under->toolTip().contains("model.30."), qPrintable(under ? under->toolTip() : "nothing"));
  // Zooming within a level changes no level.
  view.zoomBy(1.1, at);
  QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
  for (int i = 0; i < 40 && view.level() == NetworkGraphView::Level::Nodes; ++i) view.zoomBy(1 / 1.2, at);
  QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
  QVERIFY(view.zoom() < NetworkGraphView::kBlocksMaxZoom);
  under = gv->itemAt(at);
  QVERIFY2(under && under->toolTip().contains("<b>model.30</b>"), qPrintable(under ? under->toolTip() : "nothing"));
  // The kept/total of a block counts its prunable convs: 1 conv of 32 channels per block.
  NetworkView planned = chain(200);
  planned.nodes[120].kept = 8;  // model.30.n0, the block's conv
  view.updateChannels(planned);
  QVERIFY(view.fillOf("[model.30]").green() < 200);
  QVERIFY2(under->toolTip().contains("kept 8 / 32"), qPrintable(under->toolTip()));
}

void TestNetworkGraphView::doubleClickOpensABlock() {
  NetworkGraphView view;
  view.resize(800, 800);
  view.show();
  view.setNetwork(chain(200));
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
  view.selectLayer("model.12.n0");
  QTest::mouseDClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("[model.12]"));
  QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
  for (int i = 0; i < 4; ++i) {
    const QString node = QString("model.12.n%1").arg(i);
    QVERIFY2(view.viewport()->rect().contains(view.viewportPointOf(node)), qPrintable(node));
  }
  // The whole chain does not fit at a readable zoom: the minimap shows where we are.
  QVERIFY(view.minimap()->isVisible());
  view.fit();
  QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
}

// Fit stays Fit when the panel changes size (docks settling, the window resized) until the
// user zooms; then a resize keeps the zoom.
void TestNetworkGraphView::fitHoldsWhileResizing() {
  NetworkGraphView view;
  view.resize(800, 800);
  view.show();
  view.setNetwork(chain(200));
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  QGraphicsView* gv = graphicsView(view);
  auto wholeInView = [&] {
    return gv->mapToScene(gv->viewport()->rect()).boundingRect().contains(gv->scene()->itemsBoundingRect());
  };
  view.fit();
  QVERIFY(wholeInView());
  const double fitted = view.zoom();
  view.resize(800, 500);
  QTRY_VERIFY(view.zoom() < fitted * 0.8);
  QVERIFY(wholeInView());
  view.zoomBy(1.2, QPointF(100, 100));
  const double zoomed = view.zoom();
  view.resize(800, 700);
  QTest::qWait(50);
  QCOMPARE(view.zoom(), zoomed);
}

// The report rebuilds its network from a checkpoint: no dependency groups, no MACs. Its
// blocks still count their convs' channels (and say nothing about MACs).
void TestNetworkGraphView::blocksOfANetworkWithoutGroups() {
  NetworkView net = chain(200);
  for (GraphNodeInfo& n : net.nodes) n.group = -1, n.macs = 0;
  net.nodes[12].kept = 16;  // model.3.n0, its conv
  NetworkGraphView view;
  view.resize(800, 800);
  view.show();
  view.setNetwork(net);
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  view.fit();
  QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
  QGraphicsView* gv = graphicsView(view);
  const QGraphicsItem* block = gv->itemAt(view.viewportPointOf("[model.3]"));
  QVERIFY(block);
  QVERIFY2(block->toolTip().contains("kept 16 / 32"), qPrintable(block->toolTip()));
  QVERIFY(view.fillOf("[model.3]").green() < 200);  // half of its conv planned away
  QCOMPARE(view.fillOf("[model.4]"), QColor(Qt::white));
}

// Training hands the view a new snapshot every epoch: the user's level and zoom stay.
void TestNetworkGraphView::sameStructureKeepsTheZoom() {
  NetworkGraphView view;
  view.resize(800, 800);
  view.show();
  view.setNetwork(chain(200));
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  view.fit();
  for (int i = 0; i < 40 && view.level() == NetworkGraphView::Level::Blocks; ++i) view.zoomBy(1.2, QPointF(400, 300));
  QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
  const double zoomed = view.zoom();
  QSignalSpy laidOut(&view, &NetworkGraphView::layoutFinished);
  NetworkView next = chain(200);
  next.nodes[0].kept = 8;
  view.setNetwork(next);
  QVERIFY(view.layoutReady());
  QTest::qWait(200);
  QCOMPARE(laidOut.count(), 0);
  QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
  QCOMPARE(view.zoom(), zoomed);
  QVERIFY(view.fillOf("model.0.n0").green() < 200);  // the new values are shown
  // A different structure is a new model: laid out again and fitted.
  view.setNetwork(chain(120));
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady() && laidOut.count() == 1, 60000);
  QCOMPARE(view.visibleKeys().size(), 30);
}

QTEST_MAIN(TestNetworkGraphView)
#include "test_network_graph_view.moc"
