// The network graph tells the truth at a glance: on the demo detector (YOLOv8 blocks), every
// block box's "kept/total" and the what-if follow the plan and the model through a plan,
// Apply, Undo and Redo; blocks with a pending cut are coloured like their nodes. The counts
// are recomputed here from the model the workbench holds (its own dependency analysis).

#include <QDockWidget>
#include <QtTest/QtTest>

#include <map>

#include "../support/graph_labels.h"
#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "pruning/dependency_graph.h"
#include "util/resources.h"
#include "widgets/main_window.h"
#include "widgets/network_graph_view.h"

using namespace prunelab;
using namespace prunelab::gui;
using Level = widgets::NetworkGraphView::Level;

namespace {

constexpr int kWaitMs = 120000;

using test::blockCounts;
using test::shownBlockCounts;
}  // namespace

class TestGraphTruth : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }

  // The default layout at common screen sizes: every dock in view is big enough to show
  // its content (the bottom docks came out ~60 px high before).
  void defaultLayoutFits_data() {
    QTest::addColumn<QSize>("size");
    QTest::newRow("1366x768") << QSize(1366, 768);
    QTest::newRow("1600x1000") << QSize(1600, 1000);
  }
  void defaultLayoutFits() {
    QFETCH(QSize, size);
    Workbench bench;
    bench.window().resize(size);
    bench.window().show();
    QVERIFY(QTest::qWaitForWindowExposed(&bench.window()));
    QTest::qWait(200);
    int docks = 0;
    for (QDockWidget* d : bench.window().findChildren<QDockWidget*>()) {
      if (!d->isVisible() || d->visibleRegion().isEmpty()) continue;  // a tab behind another
      ++docks;
      QVERIFY2(d->height() >= 150 && d->width() >= 200,
               qPrintable(QString("%1 is %2x%3").arg(d->windowTitle()).arg(d->width()).arg(d->height())));
    }
    QVERIFY(docks >= 6);
  }

  void blocksFollowPlanApplyUndoRedo() {
    Workbench bench;
    bench.window().resize(1600, 1000);
    bench.window().show();
    ModelSpec m;
    m.model = resourceDir() + "/demo/detector.plm";
    m.imageSize = 160;
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().skeleton, kWaitMs);
    widgets::NetworkGraphView& view = *bench.window().graphView();
    QTRY_VERIFY_WITH_TIMEOUT(view.layoutReady() && !view.keysOf(Level::Blocks).isEmpty(), kWaitMs);

    auto check = [&](const char* when, bool planPending) {
      const Graph& g = *bench.model().skeleton;
      const auto shown = shownBlockCounts(view);
      QStringList scopes;
      for (const auto& [s, kt] : shown) scopes << s;
      QVERIFY2(scopes.size() >= 10, when);
      const auto model = blockCounts(g, scopes);
      int cut = 0;
      for (const auto& [scope, kt] : shown) {
        const auto& want = model.at(scope);
        QVERIFY2(kt.second == want.second, qPrintable(QString("%1: %2 shows %3/%4, the model has %5 channels")
                                                          .arg(when, scope).arg(kt.first).arg(kt.second).arg(want.second)));
        if (!planPending)
          QVERIFY2(kt.first == kt.second, qPrintable(QString("%1: %2 shows %3/%4 with no plan pending")
                                                         .arg(when, scope).arg(kt.first).arg(kt.second)));
        cut += kt.first < kt.second;
      }
      if (planPending) QVERIFY2(cut >= 3, qPrintable(QString("%1: only %2 blocks show the planned cut").arg(when).arg(cut)));
      // The node level says the same, box by box.
      const std::string problem = test::nodeAndMacsProblem(view, g, planPending);
      QVERIFY2(problem.empty(), qPrintable(QString("%1: %2").arg(when, problem.c_str())));
    };
    check("opened", false);
    const auto fullWidths = shownBlockCounts(view);

    QSignalSpy whatIf(&bench, &Workbench::whatIfUpdated);
    bench.setGlobalPercent(0.3);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && !whatIf.isEmpty() &&
                                 whatIf.last().at(0).value<widgets::WhatIf>().channelsRemoved > 0, kWaitMs);
    check("planned", true);
    bench.applyPlan();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);
    bench.setGlobalPercent(0);
    QTRY_VERIFY(bench.idle());
    check("applied", false);
    QVERIFY(shownBlockCounts(view) != fullWidths);  // the cut shows
    bench.undo();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 0, kWaitMs);
    check("undone", false);
    QVERIFY(shownBlockCounts(view) == fullWidths);
    bench.redo();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);
    check("redone", false);
  }
};

QTEST_MAIN(TestGraphTruth)
#include "test_graph_truth.moc"
