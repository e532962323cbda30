// The what-if's latency from a measured latency table (issue 18 item 4): before "Measure
// latency" the after-latency is the measured one scaled by MACs and says so; after it, the
// label says "latency table", the figure falls as the plan grows, and once the model is
// cut (the table belongs to the model it was measured on) the table is dropped again.

#include <QPushButton>
#include <QRegularExpression>
#include <QtTest/QtTest>

#include "../support/workbench_open.h"
#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {

constexpr int kWaitMs = 90000;  // a failing wait takes 3x this: under the 300 s watchdog

double msOf(const QString& text) {
  const QRegularExpressionMatch m = QRegularExpression("^([0-9.]+) ms").match(text);
  return m.hasMatch() ? m.captured(1).toDouble() : -1.0;
}

}  // namespace

class TestLatencyWhatIf : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }

  void tablePredictsTheAfterLatency() {
    Workbench bench;
    prunelab::test::openFashionMnist(bench, 256, 64);  // the workbench scores the model once data is open
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasScores(), kWaitMs);
    widgets::PrunePanel* panel = bench.window().prunePanel();
    QLabel* after = panel->afterLabel(3);
    // l1: an untrained model's BN gammas are all 1, which no global percent can split.
    panel->setCriterion("l1");
    bench.score("l1");
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().criterion() == "l1" && bench.pruneModel().hasScores(),
                             kWaitMs);
    panel->setPercent(0.5);
    const auto state = [&] { return (after->text() + " | last error: " + bench.window().logPanel()->lastError()).toStdString(); };
    QTRY_VERIFY2_WITH_TIMEOUT(after->text().contains("est. from MACs"), state().c_str(), kWaitMs);

    QPushButton* measure = nullptr;
    for (QPushButton* b : panel->findChildren<QPushButton*>())
      if (b->text() == "Measure latency") measure = b;
    QVERIFY(measure);
    QTest::mouseClick(measure, Qt::LeftButton);
    QTRY_VERIFY2_WITH_TIMEOUT(after->text().contains("(latency table)"), state().c_str(), kWaitMs);
    const double half = msOf(after->text());
    QVERIFY2(half > 0, qPrintable(after->text()));
    panel->setPercent(0.2);
    QTRY_VERIFY_WITH_TIMEOUT(msOf(after->text()) > half, kWaitMs);
    QVERIFY(after->text().contains("(latency table)"));

    // Cut: the table was measured on the uncut model, so the what-if stops using it.
    bench.applyPlan();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.model().historyIndex == 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!after->text().contains("(latency table)"), kWaitMs);
  }
};

QTEST_MAIN(TestLatencyWhatIf)
#include "test_latency_whatif.moc"
