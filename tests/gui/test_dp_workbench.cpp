// The Train panel's data-parallel run (issue 17 item 4), offscreen: the workbench is rank 0
// and starts rank 1 as a prunelab-cli process; the run trains on half of each epoch per
// rank, rank 1 exits cleanly, and rank 0's steps and histograms reach the panels. (That
// rank 0's live sr reaches the other ranks is test_data_parallel::liveSrReachesEveryRank.)

#include <QSpinBox>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "../support/workbench_open.h"
#include "../support/workbench_test_settings.h"
#include "distributed/dist_env.h"
#include "gui/local_workers.h"
#include "gui/workbench.h"
#include "util/error.h"
#include "widgets/gamma_panel.h"
#include "widgets/log_panel.h"
#include "widgets/main_window.h"
#include "widgets/sr_control.h"
#include "widgets/train_panel.h"

using namespace prunelab;
using namespace prunelab::gui;

class TestDpWorkbench : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    prunelab::test::useCleanWorkbenchSettings();
    qputenv("PRUNELAB_CLI", PRUNELAB_CLI);  // the workbench starts its other ranks with it
  }

  void twoProcessesFromTheTrainPanel() {
    Workbench bench;
    prunelab::test::openFashionMnist(bench, 1024, 128);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), 90000);

    widgets::TrainPanel* panel = bench.window().trainPanel();
    widgets::TrainRequest r = panel->request();
    r.epochs = 1;
    r.batch = 32;
    r.lr = 0.01;
    r.sr = 1e-3;
    r.processes = 2;
    panel->setRequest(r);
    QCOMPARE(panel->processesBox()->value(), 2);
    const int framesBefore = bench.window().gammaPanel()->frameCount();
    QSignalSpy finished(&bench, &Workbench::trainingFinished);
    panel->startButton()->click();
    QVERIFY(!panel->processesBox()->isEnabled());  // fixed while the run lasts
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 90000);
    const QString log = bench.window().logPanel()->toPlainText();
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(log));
    QVERIFY2(log.contains("Data-parallel: 2 processes (this one is rank 0), batch 32 each"), qPrintable(log));
    QVERIFY2(!log.contains("Data-parallel workers:"), qPrintable(log));  // rank 1 exited 0
    // Rank 0 read its half: 1024 / 2 / 32 = 16 steps, not the 32 of one process.
    QCOMPARE(bench.lastTrainerStep(), int64_t{15});
    QVERIFY(bench.window().gammaPanel()->frameCount() > framesBefore);
    QVERIFY(panel->processesBox()->isEnabled());
  }

  // The Processes box and the worker share one cap (4 per core, at least 8): the box stops
  // there, and LocalWorkers refuses more, naming the box, before starting any process.
  void processesAreCapped() {
    widgets::TrainPanel panel;
    QCOMPARE(panel.processesBox()->maximum(), maxLocalWorkers());
    QTemporaryDir dir;
    try {
      LocalWorkers workers(maxLocalWorkers() + 1, freeLocalPort(), {}, dir.path());
      QFAIL("LocalWorkers started more processes than the cap");
    } catch (const prunelab::Error& e) {
      QVERIFY2(QString(e.what()).contains("Processes"), e.what());
      QVERIFY2(QDir(dir.path()).entryList({"rank*.log"}).isEmpty(), "a rank was started");
    }
  }
};

QTEST_MAIN(TestDpWorkbench)
#include "test_dp_workbench.moc"
