// The Detections view (issue 14 item 5): the demo detector's boxes on validation images,
// before the first cut and now, side by side; refreshed after Apply and after each
// fine-tune epoch. Offscreen; PRUNELAB_SCREENSHOT_DIR=DIR saves the view after the cut
// as DIR/detections.png (the README's picture).

#include <QDir>
#include <QDockWidget>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "widgets/detections_panel.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"

using namespace prunelab;
using namespace prunelab::gui;

namespace {

constexpr int kWaitMs = 300000;

int boxCount(const QVector<widgets::DetectionBox>& boxes) { return int(boxes.size()); }

bool sameBoxes(const QVector<widgets::DetectionBox>& a, const QVector<widgets::DetectionBox>& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i)
    if (a[i].rect != b[i].rect || a[i].cls != b[i].cls || a[i].score != b[i].score) return false;
  return true;
}

}  // namespace

class TestDetectionsView : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }

  void beforeAfterOnTheDemoDetector() {
    QTemporaryDir runs;
    QSettings().setValue("runs/dir", runs.path());
    Workbench bench;
    widgets::DetectionsPanel* panel = bench.window().detectionsPanel();
    QVERIFY(!panel->hint().isEmpty());  // nothing open yet: says what to do
    QSignalSpy changed(panel, &widgets::DetectionsPanel::previewChanged);
    bench.openDemoDetector();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph() && !panel->preview().samples.isEmpty(),
                             kWaitMs);

    // Loaded, nothing cut: both sides are the same model, and it finds the objects.
    widgets::DetectionsPreview p = panel->preview();
    QCOMPARE(p.samples.size(), 4);
    QCOMPARE(p.beforeLabel, p.afterLabel);
    QCOMPARE(p.classNames.size(), 10);  // fashion-det's names
    int boxes = 0;
    for (const auto& s : p.samples) {
      QVERIFY(!s.image.isNull());
      QVERIFY(sameBoxes(s.before, s.after));
      boxes += boxCount(s.after);
      for (const auto& b : s.after) {
        QVERIFY(b.score >= p.confidence);
        QVERIFY(b.rect.left() >= 0 && b.rect.right() <= s.image.width() && b.rect.bottom() <= s.image.height());
      }
    }
    QVERIFY2(boxes >= 4, qPrintable(QString::number(boxes)));
    const widgets::DetectionsPreview loaded = p;
    // README (Demo models): the detector demo writes 1200 training and 300 validation
    // fashion-det images (with their labels) into the user's data folder - here under the
    // scratch HOME of useCleanWorkbenchSettings(), so this run wrote them. check_layers: path ok
    const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/fashion-det-demo";
    QCOMPARE(QDir(dataDir + "/images/train").entryList(QDir::Files).size(), 1200);
    QCOMPARE(QDir(dataDir + "/images/val").entryList(QDir::Files).size(), 300);
    QCOMPARE(QDir(dataDir + "/labels/train").entryList(QDir::Files).size(), 1200);

    // Apply a 30 % cut: the left keeps the loaded model's boxes, the right is the pruned model's.
    const int beforeApply = changed.count();
    bench.window().prunePanel()->setPercent(0.3);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
    bench.applyPlan();
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && changed.count() > beforeApply &&
                                 panel->preview().afterLabel != loaded.afterLabel,
                             kWaitMs);
    p = panel->preview();
    QCOMPARE(p.beforeLabel, loaded.beforeLabel);
    bool anyChanged = false;
    for (int i = 0; i < p.samples.size(); ++i) {
      QVERIFY(sameBoxes(p.samples[i].before, loaded.samples[i].before));
      anyChanged = anyChanged || !sameBoxes(p.samples[i].after, loaded.samples[i].after);
    }
    QVERIFY2(anyChanged, "a 30 % cut changed no box or score");
    // The panel draws both sides of every sample.
    QCOMPARE(panel->findChildren<QLabel*>(QRegularExpression("^detections_[0-9]+_(before|after)$")).size(), 8);

    if (const QByteArray dir = qgetenv("PRUNELAB_SCREENSHOT_DIR"); !dir.isEmpty()) {
      // The view at a readable size (in the window it shares the bottom dock area).
      widgets::DetectionsPanel shot;
      shot.setPreview(panel->preview());
      shot.resize(1010, 640);
      shot.show();
      QTest::qWait(200);
      QVERIFY(shot.grab().save(QDir(QString::fromLocal8Bit(dir)).filePath("detections.png")));
    }

    // Fine-tune 2 epochs on a few images: the right side follows each epoch.
    DataSpec d = bench.dataSpec();
    d.trainLimit = 48;
    d.valLimit = 16;
    bench.openData(d);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
    QStringList labels;
    connect(panel, &widgets::DetectionsPanel::previewChanged, this, [&] { labels << panel->preview().afterLabel; });
    QSignalSpy finished(&bench, &Workbench::trainingFinished);
    TrainSettings t;
    t.epochs = 2;
    t.batch = 16;
    t.lr = 0.002;
    bench.startTraining(t);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle(), kWaitMs);
    QVERIFY2(labels.contains("training, epoch 1/2") && labels.contains("training, epoch 2/2"),
             qPrintable(labels.join(" | ")));
    QVERIFY2(panel->preview().afterLabel.startsWith("trained"), qPrintable(panel->preview().afterLabel));
    QCOMPARE(panel->preview().beforeLabel, loaded.beforeLabel);  // still the model before the cut
  }

  // A classifier: the view says why it is empty.
  void classifierClears() {
    Workbench bench;
    widgets::DetectionsPanel* panel = bench.window().detectionsPanel();
    ModelSpec m;
    m.model = "resnet20";
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph(), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(panel->hint().contains("classifier"), kWaitMs);
    QVERIFY(panel->preview().samples.isEmpty());
  }
};

QTEST_MAIN(TestDetectionsView)
#include "test_detections_view.moc"
