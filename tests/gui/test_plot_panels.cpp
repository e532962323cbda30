// The four plot panels on their own (offscreen): the numbers they draw and the signals
// their clicks emit. Complements test_panels.cpp with larger, hand-computed data, the
// heat map, decimation, sorted channel bars and the compare chart's layer filter.

#include <QCheckBox>
#include <QLabel>
#include <QTableWidget>
#include <QtTest/QtTest>

#include <cmath>
#include <numeric>

#include "widgets/channels_panel.h"
#include "widgets/compare_panel.h"
#include "widgets/curves_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/qcustomplot_include.h"

using namespace prunelab::widgets;

namespace {

// Deterministic |gamma| values in [0, 0.8): layer l has 8 * (l + 1) channels.
GammaFrame gammaFrame(double epoch, int layers, double shrink) {
  GammaFrame f;
  f.epoch = epoch;
  f.step = static_cast<qint64>(epoch * 100);
  quint32 state = 12345;
  for (int l = 0; l < layers; ++l) {
    f.layers << QString("model.%1.bn").arg(l);
    QVector<float> g;
    for (int c = 0; c < 8 * (l + 1); ++c) {
      state = state * 1664525u + 1013904223u;
      const double u = (state >> 8) / double(1u << 24);
      g << static_cast<float>(0.8 * u * (c % 2 ? 1.0 : shrink));  // odd channels keep, even ones shrink
    }
    f.absGamma << g;
  }
  return f;
}

double sum(const QVector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

ChannelScores eightChannels() {
  ChannelScores c;
  c.layer = "layer1.0.conv1";
  c.group = 3;
  c.scores = {0.50, 0.90, 0.30, 0.80, 0.70, 0.20, 0.60, 0.10};
  c.pruned = {false, false, false, false, false, true, false, true};
  c.pinned = {false, true, false, false, false, false, false, false};
  c.threshold = 0.25;
  return c;
}

}  // namespace

class TestPlotPanels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void gammaCountsAndMeanOverSelection();
  void gammaHeatMapGrowsAndDecimates();
  void gammaHeatMapKeepsEpochsLinear();
  void curvesSeriesFromNames();
  void channelClickTogglesOne();
  void channelDragTogglesRange();
  void channelClickWhenSortedMapsBack();
  void compareChangesAndLayerFilter();
};

void TestPlotPanels::gammaCountsAndMeanOverSelection() {
  GammaPanel panel;
  const GammaFrame f0 = gammaFrame(0.0, 4, 1.0);
  const GammaFrame f1 = gammaFrame(1.0, 4, 0.01);
  panel.addFrame(f0);  // range [0, 1]: every value of f0 is < 0.8, so its 99.5th percentile < 1
  panel.addFrame(f1);

  // All layers: 8 + 16 + 24 + 32 gammas of the newest frame.
  double total = 0, below = 0;
  int n = 0;
  for (const auto& layer : f1.absGamma)
    for (float g : layer) total += g, ++n, below += g < 1.0 / GammaPanel::kBins;
  QVector<double> h = panel.histogramCounts();
  QCOMPARE(h.size(), GammaPanel::kBins);
  QCOMPARE(sum(h), double(n));
  QCOMPARE(n, 80);
  QCOMPARE(h[0], below);  // the first bin is [0, 1/60)
  QVERIFY(std::abs(panel.meanAbsGamma() - total / n) < 1e-6);

  // A subset: only model.1.bn and model.3.bn (16 + 32 gammas).
  panel.setSelectedLayers({"model.1.bn", "model.3.bn"});
  double subTotal = 0;
  for (int l : {1, 3})
    for (float g : f1.absGamma[l]) subTotal += g;
  h = panel.histogramCounts();
  QCOMPARE(sum(h), 48.0);
  QVERIFY(std::abs(panel.meanAbsGamma() - subTotal / 48) < 1e-6);

  panel.setSelectedLayers({});
  QCOMPARE(sum(panel.histogramCounts()), 80.0);
  panel.clear();
  QCOMPARE(panel.frameCount(), 0);
  QVERIFY(panel.histogramCounts().isEmpty());
}

void TestPlotPanels::gammaHeatMapGrowsAndDecimates() {
  GammaPanel panel;
  auto* map = panel.findChild<QCPColorMap*>();
  QVERIFY(map);
  for (int i = 0; i < 5; ++i) panel.addFrame(gammaFrame(i * 0.25, 3, 1.0 - 0.2 * i));
  QCOMPARE(panel.frameCount(), 5);
  QCOMPARE(map->data()->keySize(), 5);  // one column per frame
  QCOMPARE(map->data()->valueSize(), GammaPanel::kBins);

  // Long runs: old frames are thinned, never more than ~400, the newest is always kept.
  for (int i = 5; i < 1000; ++i) panel.addFrame(gammaFrame(1.0 + i * 0.01, 3, 1.0));
  QVERIFY(panel.frameCount() <= 400);
  QVERIFY(panel.frameCount() >= 200);
  QCOMPARE(map->data()->keySize(), panel.frameCount());
  QCOMPARE(sum(panel.histogramCounts()), 8.0 + 16 + 24);
}

// One gamma per frame equal to epoch / 10: every heat-map column's filled bin must sit at its
// own column's epoch / 10, also once a long run (1001 frames) has been thinned below 400.
void TestPlotPanels::gammaHeatMapKeepsEpochsLinear() {
  GammaPanel panel;
  auto* map = panel.findChild<QCPColorMap*>();
  QVERIFY(map);
  for (int i = 0; i <= 1000; ++i) {
    GammaFrame f;
    f.epoch = i * 0.01;
    f.layers << "bn";
    f.absGamma << QVector<float>{static_cast<float>(f.epoch / 10)};
    panel.addFrame(f);  // the first frame's range: [0, 1]
  }
  double worst = 0;
  for (int c = 0; c < map->data()->keySize(); ++c) {
    int filled = -1;
    for (int b = 0; b < GammaPanel::kBins; ++b)
      if (map->data()->cell(c, b) > 0) filled = b;
    double epoch = 0, gamma = 0;
    map->data()->cellToCoord(c, filled, &epoch, &gamma);
    worst = std::max(worst, std::abs(gamma - epoch / 10));
  }
  QVERIFY2(worst <= 2.0 / GammaPanel::kBins, qPrintable(QString("off by %1 in |gamma|").arg(worst)));
}

void TestPlotPanels::curvesSeriesFromNames() {
  CurvesPanel panel;
  const int stepsPerEpoch = 20;
  for (int e = 0; e < 4; ++e) {
    for (int s = 0; s < stepsPerEpoch; ++s) {
      StepPoint p;
      p.epoch = e;
      p.step = e * stepsPerEpoch + s;
      p.epochPos = e + double(s) / stepsPerEpoch;
      p.loss = 2.0 / (1 + p.epochPos);
      p.lr = 0.1;
      p.sr = 1e-4;
      panel.addStep(p);
    }
    EpochPoint ep;
    ep.epoch = e;
    ep.values = {{"train/loss", 1.0}, {"train/box_loss", 0.3}, {"val/loss", 1.1}, {"metrics/mAP50", 0.5},
                 {"metrics/mAP50-95", 0.3}, {"pruned_now/mAP50-95", 0.2}};
    if (e >= 2) ep.values.push_back({"val/top5", 0.9});  // series may appear late
    panel.addEpoch(ep);
  }
  const QStringList names = panel.seriesNames();
  for (const char* s : {"step/loss", "lr", "sr", "train/loss", "train/box_loss", "val/loss", "metrics/mAP50",
                        "metrics/mAP50-95", "pruned_now/mAP50-95", "val/top5"})
    QVERIFY2(names.contains(s), s);
  QCOMPARE(panel.pointCount("step/loss"), 4 * stepsPerEpoch);
  QCOMPARE(panel.pointCount("sr"), 4 * stepsPerEpoch);
  QCOMPARE(panel.pointCount("metrics/mAP50-95"), 4);
  QCOMPARE(panel.pointCount("val/top5"), 2);
  QCOMPARE(panel.pointCount("no/such"), 0);

  // "pruned now" is dashed and every series has its own colour.
  QSet<QRgb> colours;
  for (QCPGraph* g : panel.findChildren<QCPGraph*>()) {
    QCOMPARE(g->pen().style() == Qt::DashLine, g->name().startsWith("pruned_now/"));
    if (g->name() != "step/loss") colours.insert(g->pen().color().rgb());
  }
  QCOMPARE(colours.size(), names.size() - 1);

  // Legends sit beside the data, never on it: in a narrow dock every legend's box lies
  // outside its plot's data rectangle.
  panel.resize(360, 520);
  panel.show();
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  QTest::qWait(CurvesPanel::kReplotMs + 200);  // the queued rescale shows the legends
  const auto plots = panel.findChildren<QCustomPlot*>();
  QCOMPARE(plots.size(), 3);
  for (QCustomPlot* p : plots) {
    p->replot(QCustomPlot::rpImmediateRefresh);
    QVERIFY(p->legend->visible());
    const QRect data = p->axisRect()->rect(), legend = p->legend->outerRect();
    QVERIFY2(!legend.intersects(data), qPrintable(QString("legend %1,%2 %3x%4 over data %5,%6 %7x%8")
                                                      .arg(legend.x()).arg(legend.y()).arg(legend.width()).arg(legend.height())
                                                      .arg(data.x()).arg(data.y()).arg(data.width()).arg(data.height())));
    QVERIFY(data.height() > 40);  // and the data keeps most of the plot
  }

  panel.clear();
  QVERIFY(panel.seriesNames().isEmpty());
  QCOMPARE(panel.pointCount("train/loss"), 0);
}

void TestPlotPanels::channelClickTogglesOne() {
  ChannelsPanel panel;
  panel.resize(700, 260);
  panel.show();
  panel.setChannels(eightChannels());
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  panel.layoutNow();
  QVERIFY(panel.findChild<QLabel*>()->text().contains("kept 6 / 8"));
  QSignalSpy spy(&panel, &ChannelsPanel::channelsToggled);
  QWidget* plot = panel.plotWidget();

  QTest::mouseClick(plot, Qt::LeftButton, {}, panel.barCenter(6));  // kept -> prune
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(0).toString(), QString("layer1.0.conv1"));
  QCOMPARE(spy.at(0).at(1).value<QVector<int>>(), QVector<int>{6});
  QCOMPARE(spy.at(0).at(2).toBool(), true);

  QTest::mouseClick(plot, Qt::LeftButton, {}, panel.barCenter(7));  // pruned -> keep (a short bar)
  QCOMPARE(spy.count(), 2);
  QCOMPARE(spy.at(1).at(1).value<QVector<int>>(), QVector<int>{7});
  QCOMPARE(spy.at(1).at(2).toBool(), false);

  QTest::mouseClick(plot, Qt::LeftButton, {}, panel.barCenter(1));  // pinned: nothing
  QCOMPARE(spy.count(), 2);
  QCOMPARE(panel.channels().pruned, eightChannels().pruned);  // the panel never edits its data
}

void TestPlotPanels::channelDragTogglesRange() {
  ChannelsPanel panel;
  panel.resize(700, 260);
  panel.show();
  panel.setChannels(eightChannels());
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  panel.layoutNow();
  QSignalSpy spy(&panel, &ChannelsPanel::channelsToggled);
  QWidget* plot = panel.plotWidget();
  auto drag = [&](int from, int to) {
    QTest::mousePress(plot, Qt::LeftButton, {}, panel.barCenter(from));
    const QPoint end = panel.barCenter(to);
    QMouseEvent move(QEvent::MouseMove, end, plot->mapToGlobal(end), Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(plot, &move);
    QTest::mouseRelease(plot, Qt::LeftButton, {}, end);
  };

  drag(2, 5);  // first (2) is kept: all of 2..5 pruned, 5 included although already pruned
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(1).value<QVector<int>>(), (QVector<int>{2, 3, 4, 5}));
  QCOMPARE(spy.at(0).at(2).toBool(), true);

  drag(7, 0);  // right to left from a pruned channel: keep every non-pinned channel of 0..7
  QCOMPARE(spy.count(), 2);
  QCOMPARE(spy.at(1).at(1).value<QVector<int>>(), (QVector<int>{0, 2, 3, 4, 5, 6, 7}));
  QCOMPARE(spy.at(1).at(2).toBool(), false);

  drag(5, 7);  // first (5) is pruned: keep 5..7
  QCOMPARE(spy.count(), 3);
  QCOMPARE(spy.at(2).at(1).value<QVector<int>>(), (QVector<int>{5, 6, 7}));
  QCOMPARE(spy.at(2).at(2).toBool(), false);
}

void TestPlotPanels::channelClickWhenSortedMapsBack() {
  ChannelsPanel panel;
  panel.resize(700, 260);
  panel.show();
  panel.setChannels(eightChannels());
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  auto* sort = panel.findChild<QCheckBox*>();
  QVERIFY(sort);
  panel.layoutNow();
  const QPoint unsorted = panel.barCenter(3);
  sort->setChecked(true);
  panel.layoutNow();
  QVERIFY(panel.barCenter(3) != unsorted);  // 0.80 is the 7th smallest score: the bar moved
  QSignalSpy spy(&panel, &ChannelsPanel::channelsToggled);
  QTest::mouseClick(panel.plotWidget(), Qt::LeftButton, {}, panel.barCenter(3));
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(1).value<QVector<int>>(), QVector<int>{3});
  // Sorted ascending, channels 7 (0.1) and 5 (0.2) are the two leftmost bars.
  QVERIFY(panel.barCenter(7).x() < panel.barCenter(5).x());
  QVERIFY(panel.barCenter(5).x() < panel.barCenter(2).x());
}

void TestPlotPanels::compareChangesAndLayerFilter() {
  ComparePanel panel;
  CompareData d;
  d.before = {2500000, 4000000000, 10 * 1024 * 1024, 3.0};
  d.after = {1000000, 1200000000, 4 * 1024 * 1024, 2.4};
  d.metricName = "mAP50-95";
  d.metricBefore = 0.45;
  d.metricAfter = 0.43;
  for (int i = 0; i < 60; ++i) d.layers.push_back({QString("model.%1.conv").arg(i), 64, i % 6 == 0 ? 32 : 64});
  panel.setData(d);
  QTableWidget* t = panel.table();
  QCOMPARE(t->item(0, 0)->text(), QString("2.50 M"));
  QCOMPARE(t->item(1, 0)->text(), QString("4.00 G"));
  QCOMPARE(t->item(2, 1)->text(), QString("4.00 MB"));
  QCOMPARE(t->item(0, 2)->text(), QString("-60.0 %"));
  QCOMPARE(t->item(1, 2)->text(), QString("-70.0 %"));
  QCOMPARE(t->item(2, 2)->text(), QString("-60.0 %"));
  QCOMPARE(t->item(3, 2)->text(), QString("-20.0 %"));
  QCOMPARE(t->item(4, 2)->text(), QString("-2.00 pp"));
  QCOMPARE(t->verticalHeaderItem(4)->text(), QString("mAP50-95"));
  // More than 40 layers: only the 10 that changed are drawn.
  for (QCPBars* b : panel.findChildren<QCPBars*>()) QCOMPARE(b->dataCount(), 10);

  d.after.latencyMs = -1;  // not measured
  d.metricAfter = -1;
  d.layers.resize(5);  // few layers: all drawn, changed or not
  panel.setData(d);
  QCOMPARE(t->item(3, 0)->text(), QString("3.00 ms"));
  QCOMPARE(t->item(3, 1)->text(), QString("-"));
  QCOMPARE(t->item(3, 2)->text(), QString("-"));
  QCOMPARE(t->item(4, 2)->text(), QString("-"));
  for (QCPBars* b : panel.findChildren<QCPBars*>()) QCOMPARE(b->dataCount(), 5);
}

QTEST_MAIN(TestPlotPanels)
#include "test_plot_panels.moc"
