// The panels on their own (offscreen): layout, clicks and drags, histogram arithmetic.

#include <QTableWidget>
#include <QtTest/QtTest>

#include <numeric>

#include "widgets/channels_panel.h"
#include "widgets/compare_panel.h"
#include "widgets/curves_panel.h"
#include "widgets/gamma_panel.h"
#include "widgets/layer_table_model.h"
#include "widgets/network_graph_view.h"
#include "widgets/sr_control.h"
#include "widgets/train_panel.h"

using namespace prunelab::widgets;

namespace {

// A chain of `blocks` blocks (conv -> bn -> relu) with a skip from each block's input to
// its relu's consumer, scopes "model.i.*" like YOLO's.
NetworkView blockChain(int blocks) {
  NetworkView v;
  int prev = -1;
  for (int b = 0; b < blocks; ++b) {
    const QString scope = QString("model.%1").arg(b);
    const char* ops[] = {"Conv", "BatchNorm", "ReLU"};
    for (int k = 0; k < 3; ++k) {
      GraphNodeInfo n;
      n.id = v.nodes.size();
      n.name = scope + (k == 0 ? ".conv" : k == 1 ? ".bn" : ".act");
      n.scope = n.name;
      n.op = ops[k];
      n.channelSource = k == 0;
      n.shape = "1x16x8x8";
      n.channels = 16;
      n.kept = 16;
      n.group = b;
      n.macs = 1000;
      if (prev >= 0) v.edges.push_back({prev, n.id});
      prev = n.id;
      v.nodes.push_back(n);
    }
  }
  return v;
}

GammaFrame frame(double epoch, const QVector<QVector<float>>& layers) {
  GammaFrame f;
  f.epoch = epoch;
  for (int i = 0; i < layers.size(); ++i) f.layers << QString("bn%1").arg(i);
  f.absGamma = layers;
  return f;
}

}  // namespace

class TestPanels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void graphLaysOutTopDownAndClicks();
  void graphCollapsesLargeModels();
  void channelClicksAndDrags();
  void gammaHistogramCounts();
  void curvesCreateSeries();
  void curvesShowTheAutopilot();
  void autopilotBoxYieldsToTheSlider();
  void compareShowsChanges();
  void ratioEditParsesPercent();
};

void TestPanels::graphLaysOutTopDownAndClicks() {
  NetworkGraphView view;
  view.resize(800, 1200);
  view.show();
  const NetworkView net = blockChain(3);  // 9 nodes: expanded
  view.setNetwork(net);
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 20000);
  QCOMPARE(view.visibleKeys().size(), 9);
  view.fit();
  for (int i = 1; i < net.nodes.size(); ++i)  // data flows downwards
    QVERIFY(view.viewportPointOf(net.nodes[i].name).y() > view.viewportPointOf(net.nodes[i - 1].name).y());

  QSignalSpy clicked(&view, &NetworkGraphView::layerClicked);
  QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, view.viewportPointOf("model.1.conv"));
  QCOMPARE(clicked.count(), 1);
  QCOMPARE(clicked.at(0).at(0).toString(), QString("model.1.conv"));

  // Half the channels planned away: the box turns from white towards red.
  const QColor before = view.fillOf("model.1.conv");
  NetworkView pruned = net;
  pruned.nodes[3].kept = 8;
  view.updateChannels(pruned);
  const QColor after = view.fillOf("model.1.conv");
  QCOMPARE(before, QColor(Qt::white));
  QVERIFY(after.green() < 200 && after.red() > after.green());

  view.collapseScope("model.1");
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady() && view.visibleKeys().size() == 7, 20000);
  QVERIFY(view.visibleKeys().contains("[model.1]"));
}

void TestPanels::graphCollapsesLargeModels() {
  NetworkGraphView view;
  view.resize(800, 800);
  view.setNetwork(blockChain(140));  // 420 nodes: one box per block
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  QCOMPARE(view.visibleKeys().size(), 140);
  view.expandAll();
  QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady(), 60000);
  QCOMPARE(view.visibleKeys().size(), 420);
}

void TestPanels::channelClicksAndDrags() {
  ChannelsPanel panel;
  panel.resize(800, 300);
  panel.show();
  ChannelScores c;
  c.layer = "layer1.0.conv1";
  c.scores = {0.5, 0.9, 0.3, 0.8, 0.7, 0.2, 0.6, 0.4};
  c.pruned = {false, false, false, false, false, true, false, false};
  c.pinned = {false, false, false, false, true, false, false, false};
  c.threshold = 0.25;
  panel.setChannels(c);
  QVERIFY(QTest::qWaitForWindowExposed(&panel));
  panel.layoutNow();  // bar positions come from the laid-out axes
  QSignalSpy spy(&panel, &ChannelsPanel::channelsToggled);
  QWidget* plot = panel.plotWidget();

  QTest::mouseClick(plot, Qt::LeftButton, {}, panel.barCenter(3));
  QCOMPARE(spy.count(), 1);
  QCOMPARE(spy.at(0).at(1).value<QVector<int>>(), QVector<int>{3});
  QCOMPARE(spy.at(0).at(2).toBool(), true);  // kept -> prune

  QTest::mouseClick(plot, Qt::LeftButton, {}, panel.barCenter(5));
  QCOMPARE(spy.at(1).at(2).toBool(), false);  // pruned -> keep

  QTest::mouseClick(plot, Qt::LeftButton, {}, panel.barCenter(4));
  QCOMPARE(spy.count(), 2);  // pinned: nothing

  // Drag from bar 2 to bar 6: every non-pinned channel in between, set to "prune".
  QTest::mousePress(plot, Qt::LeftButton, {}, panel.barCenter(2));
  QMouseEvent move(QEvent::MouseMove, panel.barCenter(6), plot->mapToGlobal(panel.barCenter(6)), Qt::NoButton,
                   Qt::LeftButton, Qt::NoModifier);
  QApplication::sendEvent(plot, &move);
  QTest::mouseRelease(plot, Qt::LeftButton, {}, panel.barCenter(6));
  QCOMPARE(spy.count(), 3);
  QCOMPARE(spy.at(2).at(1).value<QVector<int>>(), (QVector<int>{2, 3, 5, 6}));
  QCOMPARE(spy.at(2).at(2).toBool(), true);
}

void TestPanels::gammaHistogramCounts() {
  GammaPanel panel;
  panel.addFrame(frame(0.0, {{1.0f, 1.0f, 1.0f}, {1.0f, 1.0f}}));
  panel.addFrame(frame(1.0, {{0.0f, 0.5f, 1.0f}, {0.005f, 0.25f}}));
  QCOMPARE(panel.frameCount(), 2);
  const QVector<double> h = panel.histogramCounts();
  QCOMPARE(h.size(), GammaPanel::kBins);
  QCOMPARE(std::accumulate(h.begin(), h.end(), 0.0), 5.0);
  QVERIFY(std::abs(panel.meanAbsGamma() - (0.0 + 0.5 + 1.0 + 0.005 + 0.25) / 5) < 1e-6);
  // Range [0, 1.25] in 60 bins: 0 and 0.005 share the first bin.
  QCOMPARE(h[0], 2.0);
  panel.setSelectedLayers({"bn1"});
  const QVector<double> h1 = panel.histogramCounts();
  QCOMPARE(std::accumulate(h1.begin(), h1.end(), 0.0), 2.0);
  QVERIFY(std::abs(panel.meanAbsGamma() - (0.005 + 0.25) / 2) < 1e-6);
}

void TestPanels::curvesCreateSeries() {
  CurvesPanel panel;
  for (int e = 0; e < 3; ++e) {
    StepPoint s;
    s.epoch = e;
    s.epochPos = e + 0.5;
    s.loss = 1.0 / (e + 1);
    panel.addStep(s);
    EpochPoint p;
    p.epoch = e;
    p.values = {{"train/loss", 1.0}, {"val/top1", 0.8}, {"pruned_now/top1", 0.6}, {"gamma/abs_mean", 0.5}};
    panel.addEpoch(p);
  }
  QVERIFY(panel.seriesNames().contains("val/top1"));
  QVERIFY(panel.seriesNames().contains("pruned_now/top1"));
  QVERIFY(!panel.seriesNames().contains("gamma/abs_mean"));
  QCOMPARE(panel.pointCount("pruned_now/top1"), 3);
  QCOMPARE(panel.pointCount("step/loss"), 3);
}

// sr, the sparse fraction and the metric on one time axis: the pilot's per-step measurement
// and target appear only on steps it measured.
void TestPanels::curvesShowTheAutopilot() {
  CurvesPanel panel;
  for (int i = 0; i < 4; ++i) {
    StepPoint s;
    s.epochPos = 0.25 * (i + 1);
    s.sr = 1e-4 * (i + 1);
    if (i % 2 == 0) s.sparseFraction = 0.1 * i, s.sparseTarget = 0.1 * i + 0.05;
    panel.addStep(s);
  }
  EpochPoint p;
  p.values = {{"val/top1", 0.8}, {"sparse/fraction", 0.2}, {"sparse/target", 0.25}};
  panel.addEpoch(p);
  QCOMPARE(panel.pointCount("sr"), 4);
  QCOMPARE(panel.pointCount("step/sparse_fraction"), 2);
  QCOMPARE(panel.pointCount("step/sparse_target"), 2);
  QCOMPARE(panel.pointCount("sparse/fraction"), 1);
  QCOMPARE(panel.pointCount("val/top1"), 1);
}

// The Train panel's autopilot box: the pilot's sr shown on the slider is not a hand move;
// a hand move during a piloted run unchecks the box (autopilotToggled(false, true)) before
// srChanged carries the new value; before a run the box is just a setting.
void TestPanels::autopilotBoxYieldsToTheSlider() {
  TrainPanel panel;
  TrainRequest r;
  r.epochs = 4;
  r.autopilot = true;
  r.sparsityTarget = 0.3;
  r.byEpoch = 9;  // more than the epochs: the spin box keeps it within them
  r.distill = true;  // beside the pilot: one run can do both
  panel.setRequest(r);
  QCOMPARE(panel.request().byEpoch, 4);
  QCOMPARE(panel.request().sparsityTarget, 0.3);
  QVERIFY(panel.request().autopilot && panel.request().distill);
  QStringList order;
  connect(&panel, &TrainPanel::autopilotToggled, this,
          [&](bool on, bool byHand) { order << QString("pilot %1 %2").arg(on).arg(byHand); });
  connect(&panel, &TrainPanel::srChanged, this, [&](double sr) { order << QString("sr %1").arg(sr); });

  panel.srControl()->setValue(1e-3);  // not running: a setting, the box stays
  QCOMPARE(order, QStringList{"sr 0.001"});
  QVERIFY(panel.autopilotBox()->isChecked());

  order.clear();
  panel.setRunning(true);
  QVERIFY(!panel.distillBox()->isEnabled());  // the teacher is fixed for the run; the pilot box is not
  QVERIFY(panel.autopilotBox()->isEnabled());
  panel.showAutopilotSr(2e-3);  // the pilot's value on display
  QCOMPARE(panel.srControl()->value(), 2e-3);
  QVERIFY(order.isEmpty());
  QVERIFY(panel.autopilotBox()->isChecked());

  panel.srControl()->setValue(5e-4);  // the hand
  QCOMPARE(order, (QStringList{"pilot 0 1", "sr 0.0005"}));
  QVERIFY(!panel.autopilotBox()->isChecked());

  order.clear();
  panel.autopilotBox()->setChecked(true);  // re-engage during the run
  QCOMPARE(order, QStringList{"pilot 1 0"});
  panel.clearAutopilot();  // the trainer let go on its own: no signal back
  QVERIFY(!panel.autopilotBox()->isChecked());
  QCOMPARE(order.size(), 1);
}

void TestPanels::compareShowsChanges() {
  ComparePanel panel;
  CompareData d;
  d.before = {1000000, 40000000, 4000000, 2.0};
  d.after = {500000, 10000000, 2000000, 1.0};
  d.metricName = "top-1";
  d.metricBefore = 0.92;
  d.metricAfter = 0.91;
  d.layers = {{"conv1", 16, 8}, {"fc", 64, 64}};
  panel.setData(d);
  QCOMPARE(panel.table()->item(0, 2)->text(), QString("-50.0 %"));
  QCOMPARE(panel.table()->item(1, 2)->text(), QString("-75.0 %"));
  QCOMPARE(panel.table()->item(4, 2)->text(), QString("-1.00 pp"));
}

void TestPanels::ratioEditParsesPercent() {
  LayerTableModel model;
  LayerRow r;
  r.name = "layer2.0.conv1";
  r.channels = 32;
  r.kept = 32;
  model.setRows({r});
  QSignalSpy spy(&model, &LayerTableModel::ratioEdited);
  QVERIFY(model.setData(model.index(0, LayerTableModel::Ratio), "40", Qt::EditRole));
  QVERIFY(model.setData(model.index(0, LayerTableModel::Ratio), "0.25", Qt::EditRole));
  QVERIFY(!model.setData(model.index(0, LayerTableModel::Ratio), "lots", Qt::EditRole));
  QCOMPARE(spy.count(), 2);
  QCOMPARE(spy.at(0).at(1).toDouble(), 0.4);
  QCOMPARE(spy.at(1).at(1).toDouble(), 0.25);
}

QTEST_MAIN(TestPanels)
#include "test_panels.moc"
