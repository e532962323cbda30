// The network graph readable at any size (issue 18 item 7): the demo detector (213 nodes)
// in the workbench's graph panel at Fit draws its top-level blocks with every piece of text
// at least 8 px tall on screen; wheeling in opens the nodes under the mouse (readable too),
// wheeling out closes them; a minimap appears while the graph does not fit and its frame
// follows the main view; clicks select at both levels. The text sizes are measured on what
// is drawn: the view renders into a paint device whose engine records every text item
// with its font and transform. Offscreen; PRUNELAB_SCREENSHOT_DIR=DIR saves the panel at
// Fit and zoomed in as DIR/graph-fit.png (the README's picture).

#include <QDir>
#include <QGraphicsView>
#include <QPaintEngine>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>

#include "core/util/resources.h"
#include "../support/graph_view_events.h"
#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "widgets/graph_minimap.h"
#include "widgets/main_window.h"
#include "widgets/network_graph_view.h"
#include "widgets/prune_panel.h"

using namespace prunelab;
using namespace prunelab::gui;
using widgets::NetworkGraphView;
using test::graphicsView;
using test::wheel;

namespace {

constexpr int kWaitMs = 300000;
constexpr double kReadablePx = 8.0;

struct DrawnText {
  QString text;
  double px;  // the font's pixel size times the painter's scale: its height on screen
};

// Records the text items painted on it; everything else is dropped.
class TextRecordingEngine : public QPaintEngine {
 public:
  TextRecordingEngine() : QPaintEngine(QPaintEngine::AllFeatures) {}
  bool begin(QPaintDevice*) override { return true; }
  bool end() override { return true; }
  void updateState(const QPaintEngineState&) override {}
  void drawPixmap(const QRectF&, const QPixmap&, const QRectF&) override { ++pixmaps; }
  void drawImage(const QRectF&, const QImage&, const QRectF&, Qt::ImageConversionFlags) override { ++pixmaps; }
  void drawPath(const QPainterPath&) override {}
  void drawPolygon(const QPointF*, int, PolygonDrawMode) override {}
  void drawRects(const QRectF*, int) override {}
  void drawLines(const QLineF*, int) override {}
  void drawEllipse(const QRectF&) override {}
  void drawTextItem(const QPointF&, const QTextItem& item) override {
    const QTransform t = painter()->combinedTransform();
    const QFont f = item.font();
    const double px = f.pixelSize() > 0 ? f.pixelSize() : f.pointSizeF() * 96.0 / 72.0;
    texts.push_back({item.text(), px * std::sqrt(std::abs(t.determinant()))});
  }
  Type type() const override { return QPaintEngine::User; }

  QVector<DrawnText> texts;
  int pixmaps = 0;
};

class TextRecorder : public QPaintDevice {
 public:
  explicit TextRecorder(QSize size) : m_size(size) {}
  QPaintEngine* paintEngine() const override { return &m_engine; }
  const QVector<DrawnText>& texts() const { return m_engine.texts; }
  int pixmaps() const { return m_engine.pixmaps; }

 protected:
  int metric(PaintDeviceMetric m) const override {
    switch (m) {
      case PdmWidth: return m_size.width();
      case PdmHeight: return m_size.height();
      case PdmDpiX: case PdmDpiY: case PdmPhysicalDpiX: case PdmPhysicalDpiY: return 96;
      case PdmDepth: return 32;
      case PdmNumColors: return INT_MAX;
      case PdmDevicePixelRatio: return 1;
      case PdmDevicePixelRatioScaled: return int(QPaintDevice::devicePixelRatioFScale());
      case PdmWidthMM: return m_size.width() * 254 / 960;
      case PdmHeightMM: return m_size.height() * 254 / 960;
      default: return 0;
    }
  }

 private:
  QSize m_size;
  mutable TextRecordingEngine m_engine;
};

// What the graph panel draws right now: its view's visible area, text by text. The view
// paints its items without their pixmap caches onto a foreign device, so every text
// reaches the recorder.
QVector<DrawnText> drawnTexts(NetworkGraphView& view) {
  QGraphicsView* gv = graphicsView(view);
  const QRect vp = gv->viewport()->rect();
  QHash<QGraphicsItem*, QGraphicsItem::CacheMode> caches;
  for (QGraphicsItem* item : gv->scene()->items()) caches[item] = item->cacheMode(), item->setCacheMode(QGraphicsItem::NoCache);
  TextRecorder rec(vp.size());
  QPainter p(&rec);
  gv->render(&p, QRectF(QPointF(0, 0), vp.size()), vp);
  p.end();
  for (auto it = caches.cbegin(); it != caches.cend(); ++it) it.key()->setCacheMode(it.value());
  return rec.texts();
}

QString describe(const QVector<DrawnText>& texts) {
  QStringList s;
  for (const DrawnText& t : texts) s << QString("'%1' %2 px").arg(t.text).arg(t.px, 0, 'f', 1);
  return s.join(", ");
}

bool drawnContains(const QVector<DrawnText>& texts, const QString& s) {
  return std::any_of(texts.begin(), texts.end(), [&](const DrawnText& t) { return t.text == s; });
}

}  // namespace

class TestGraphZoom : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }

  void demoDetectorReadableAtAnyZoom() {
    QTemporaryDir runs;
    QSettings().setValue("runs/dir", runs.path());
    Workbench bench;
    bench.window().resize(1600, 1000);
    bench.window().show();
    ModelSpec m;
    m.model = resourceDir() + "/demo/detector.plm";
    m.imageSize = 160;
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph(), kWaitMs);
    // A 30 % plan by BN gamma (no data needed): the blocks show it in colour and kept/total.
    bench.window().prunePanel()->setCriterion("bn");
    bench.window().prunePanel()->setPercent(0.3);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
    NetworkGraphView& view = *bench.window().graphView();
    QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), kWaitMs);
    QGraphicsView* gv = graphicsView(view);
    QVERIFY(gv);
    qInfo("graph panel viewport %dx%d", gv->viewport()->width(), gv->viewport()->height());

    // ---- Fit: the top-level blocks, every label readable.
    view.fit();
    QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
    const QStringList blocks = view.visibleKeys();
    QVERIFY2(blocks.size() >= 20 && blocks.size() <= 40, qPrintable(QString::number(blocks.size())));
    QVERIFY(blocks.contains("[model.2]") && blocks.contains("[model.22]"));
    QVERIFY(!blocks.contains("model.2.cv1.conv"));
    QVector<DrawnText> texts = drawnTexts(view);
    qInfo("at Fit (zoom %.2f): %d texts, smallest %.1f px", view.zoom(), int(texts.size()),
          texts.isEmpty() ? 0.0 : std::min_element(texts.begin(), texts.end(), [](auto& a, auto& b) {
            return a.px < b.px;
          })->px);
    for (const DrawnText& t : texts)
      QVERIFY2(t.px >= kReadablePx, qPrintable(QString("'%1' drawn %2 px tall").arg(t.text).arg(t.px)));
    int labelled = 0;
    for (const QString& key : blocks)
      if (key.startsWith('[')) labelled += drawnContains(texts, key.mid(1, key.size() - 2)) ? 1 : 0;
    const int blockCount = int(std::count_if(blocks.begin(), blocks.end(), [](auto& k) { return k.startsWith('['); }));
    QVERIFY2(labelled == blockCount, qPrintable(QString("%1 of %2 block names drawn: %3")
                                                    .arg(labelled).arg(blockCount).arg(describe(texts))));
    // Each block's second line: its MACs and kept/total of its prunable convs, after the plan.
    QVERIFY2(std::any_of(texts.begin(), texts.end(),
                         [](const DrawnText& t) { return t.text.contains("MACs") && t.text.contains('/'); }),
             qPrintable(describe(texts)));
    const QColor planned = view.fillOf("[model.2]");
    QVERIFY2(planned != QColor(Qt::white), "the plan's colour reaches the block");
    QVERIFY(!view.minimap()->isVisible());  // it all fits

    // Clicking a block selects its first prunable conv, as the Layers panel shows it.
    QSignalSpy clicked(&view, &NetworkGraphView::layerClicked);
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("[model.2]"));
    QCOMPARE(clicked.count(), 1);
    QVERIFY2(clicked.at(0).at(0).toString().startsWith("model.2."), qPrintable(clicked.at(0).at(0).toString()));
    QTRY_COMPARE(bench.selectedLayer(), clicked.at(0).at(0).toString());

    // Fit means no scroll bars (once the scroll area has settled).
    QTRY_VERIFY(!gv->verticalScrollBar()->isVisible() && !gv->horizontalScrollBar()->isVisible());
    QImage fitShot;
    const QByteArray shots = qgetenv("PRUNELAB_SCREENSHOT_DIR");
    if (!shots.isEmpty()) fitShot = view.grab().toImage();

    // ---- Wheel in over model.2: its nodes open under the mouse.
    const QPoint at = view.viewportPointOf("[model.2]");
    for (int i = 0; i < 12 && view.level() == NetworkGraphView::Level::Blocks; ++i) wheel(gv, at, 120);
    QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
    QVERIFY(view.zoom() >= NetworkGraphView::kNodeMinZoom);
    QCOMPARE(view.visibleKeys().size(), 213);
    QVERIFY(view.visibleKeys().contains("model.2.cv1.conv"));
    // The point under the mouse is still in model.2.
    const QGraphicsItem* under = gv->itemAt(at);
    QVERIFY(under);
    QVERIFY2(under->toolTip().contains("model.2."), qPrintable(under->toolTip()));
    texts = drawnTexts(view);
    QVERIFY2(texts.size() >= 6, qPrintable(describe(texts)));
    for (const DrawnText& t : texts)
      QVERIFY2(t.px >= kReadablePx, qPrintable(QString("'%1' drawn %2 px tall").arg(t.text).arg(t.px)));
    QVERIFY2(std::any_of(texts.begin(), texts.end(), [](const DrawnText& t) { return t.text.startsWith("model.2."); }),
             qPrintable(describe(texts)));

    // ---- The minimap: shown now that the graph does not fit; its frame is the visible part.
    widgets::GraphMinimap* map = view.minimap();
    QVERIFY(map->isVisible());
    const auto visibleScene = [&] {
      return gv->mapToScene(gv->viewport()->rect()).boundingRect().intersected(gv->sceneRect());
    };
    auto near = [](const QRectF& a, const QRectF& b, double tol) {
      return std::abs(a.left() - b.left()) < tol && std::abs(a.top() - b.top()) < tol &&
             std::abs(a.right() - b.right()) < tol && std::abs(a.bottom() - b.bottom()) < tol;
    };
    QVERIFY(near(map->visibleSceneRect(), visibleScene(), 1.0));
    QVERIFY(map->scene() == gv->scene());
    const QRectF frameBefore = map->frameInViewport();
    gv->verticalScrollBar()->setValue(gv->verticalScrollBar()->value() + 300);  // pan down
    QVERIFY(near(map->visibleSceneRect(), visibleScene(), 1.0));
    QVERIFY2(map->frameInViewport().top() > frameBefore.top() + 2,
             qPrintable(QString("%1 -> %2").arg(frameBefore.top()).arg(map->frameInViewport().top())));
    // A click on the minimap centres the main view there.
    const QPoint target(map->viewport()->width() / 2, map->viewport()->height() * 3 / 4);
    const QPointF targetScene = map->mapToScene(target);
    QTest::mouseClick(map->viewport(), Qt::LeftButton, {}, target);
    const QPointF centre = gv->mapToScene(gv->viewport()->rect().center());
    QVERIFY2(QLineF(centre, targetScene).length() < 40 / view.zoom() || !gv->verticalScrollBar()->isVisible(),
             qPrintable(QString("centre (%1, %2), clicked (%3, %4)")
                            .arg(centre.x()).arg(centre.y()).arg(targetScene.x()).arg(targetScene.y())));
    QVERIFY(near(map->visibleSceneRect(), visibleScene(), 1.0));

    // Clicking a node selects that node.
    const QString conv = "model.2.cv1.conv";
    view.selectLayer(conv);  // brings it into view as the Layers panel would
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf(conv));
    QCOMPARE(clicked.last().at(0).toString(), conv);

    QImage nodesShot;
    if (!shots.isEmpty()) {
      QTest::qWait(50);  // the scroll bars settle
      nodesShot = view.grab().toImage();
    }

    // ---- Wheel out: back to the blocks, readable again.
    const QPoint out = view.viewportPointOf(conv);
    for (int i = 0; i < 12 && view.level() == NetworkGraphView::Level::Nodes; ++i) wheel(gv, out, -120);
    QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
    texts = drawnTexts(view);
    QVERIFY(!texts.isEmpty());
    for (const DrawnText& t : texts)
      QVERIFY2(t.px >= kReadablePx, qPrintable(QString("'%1' drawn %2 px tall").arg(t.text).arg(t.px)));

    if (!shots.isEmpty()) {
      // Fit and zoomed in, side by side with a caption over each.
      const int gap = 16, caption = 26;
      QImage both(fitShot.width() + gap + nodesShot.width(), caption + std::max(fitShot.height(), nodesShot.height()),
                  QImage::Format_ARGB32_Premultiplied);
      both.fill(Qt::white);
      QPainter p(&both);
      QFont f = p.font();
      f.setPixelSize(15);
      f.setBold(true);
      p.setFont(f);
      p.drawText(QRect(4, 0, fitShot.width(), caption), Qt::AlignVCenter, 
                 QString("Fit: %1 nodes as %2 top-level boxes").arg(view.visibleKeys().size() ? 213 : 0).arg(blocks.size()));
      p.drawText(QRect(fitShot.width() + gap + 4, 0, nodesShot.width(), caption), Qt::AlignVCenter,
                 "Wheel in over model.2: its nodes, and the minimap");
      p.drawImage(0, caption, fitShot);
      p.drawImage(fitShot.width() + gap, caption, nodesShot);
      p.end();
      QVERIFY(both.save(QDir(QString::fromLocal8Bit(shots)).filePath("graph-fit.png")));
    }
  }

  // The demo classifier (ResNet-20, 73 nodes) in a small panel: its blocks are layer1..3,
  // beside the stem and head nodes, all readable; a few wheel notches open the nodes.
  void classifierBlocksAreLayers() {
    QTemporaryDir runs;
    QSettings().setValue("runs/dir", runs.path());
    Workbench bench;
    bench.window().resize(1200, 800);
    bench.window().show();
    ModelSpec m;
    m.model = resourceDir() + "/demo/classifier.plm";
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph(), kWaitMs);
    NetworkGraphView& view = *bench.window().graphView();
    QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), kWaitMs);
    view.fit();
    QCOMPARE(view.level(), NetworkGraphView::Level::Blocks);
    const QStringList keys = view.visibleKeys();
    QVERIFY2(keys.contains("[layer1]") && keys.contains("[layer2]") && keys.contains("[layer3]") && keys.contains("fc"),
             qPrintable(keys.join(" ")));
    const QVector<DrawnText> texts = drawnTexts(view);
    for (const DrawnText& t : texts)
      QVERIFY2(t.px >= kReadablePx, qPrintable(QString("'%1' drawn %2 px tall").arg(t.text).arg(t.px)));
    for (const QString& name : QStringList{"layer1", "layer2", "layer3"}) QVERIFY2(drawnContains(texts, name), qPrintable(describe(texts)));
    QGraphicsView* gv = graphicsView(view);
    const QPoint at = view.viewportPointOf("[layer2]");
    for (int i = 0; i < 12 && view.level() == NetworkGraphView::Level::Blocks; ++i) wheel(gv, at, 120);
    QCOMPARE(view.level(), NetworkGraphView::Level::Nodes);
    QVERIFY(gv->itemAt(at) && gv->itemAt(at)->toolTip().contains("layer2."));
  }
};

QTEST_MAIN(TestGraphZoom)
#include "test_graph_zoom.moc"
