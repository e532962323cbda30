// "Run the whole story" end to end (offscreen), on the shipped demo classifier and a few
// hundred Fashion-MNIST images: the run directory gets every stage's checkpoint, the
// runs' logs, a folded ONNX export, story.json, and the report as HTML and PDF; the CLI's
// `report` rebuilds the same report from the directory alone.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QAction>
#include <QRegularExpression>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "../support/workbench_test_settings.h"
#include "gui/workbench.h"
#include "io/checkpoint.h"
#include "io/onnx_import.h"
#include "util/resources.h"
#include "widgets/main_window.h"
#include "widgets/prune_panel.h"

using namespace prunelab;
using namespace prunelab::gui;

class TestStory : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { prunelab::test::useCleanWorkbenchSettings(); }

  void storyWritesCheckpointsAndReport() {
    QTemporaryDir runs;
    QSettings().setValue("runs/dir", runs.path());
    Workbench bench;
    DataSpec d;
    d.spec = "fashion-mnist";
    d.trainLimit = 768;
    d.valLimit = 256;
    bench.openData(d);
    ModelSpec m;
    m.model = resourceDir() + "/demo/classifier.plm";
    bench.openModel(m);
    QTRY_VERIFY_WITH_TIMEOUT(bench.idle() && bench.pruneModel().hasGraph(), 120000);
    bench.window().prunePanel()->setPercent(0.3);

    QSignalSpy done(&bench, &Workbench::storyFinished);
    QSignalSpy errors(&bench, &Workbench::errorShown);
    // Started the way a user starts it: Story > Run the whole story (epochs from the settings).
    QSettings().setValue("story/sparse_epochs", 1);
    QSettings().setValue("story/fine_tune_epochs", 1);
    QAction* run = nullptr;
    for (QAction* a : bench.window().findChildren<QAction*>())
      if (a->text() == "&Run the whole story") run = a;
    QVERIFY(run);
    // README: the story is also a toolbar button (the same action).
    QToolBar* bar = bench.window().findChild<QToolBar*>("mainToolbar");
    QVERIFY(bar && bar->actions().contains(run));
    run->trigger();
    // The status bar shows the whole story's progress and an ETA while it runs.
    QStringList statuses;
    QTimer sampler;
    connect(&sampler, &QTimer::timeout, this, [&] {
      for (QLabel* l : bench.window().statusBar()->findChildren<QLabel*>())
        if (l->text().startsWith("Story:") && (statuses.isEmpty() || statuses.last() != l->text())) statuses << l->text();
    });
    sampler.start(100);
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 600000);
    sampler.stop();
    QCOMPARE(errors.count(), 0);
    const QRegularExpression running("^Story: (sparse|fine-tune) · ([0-9]+) % · ETA [0-9]");
    int lastPercent = -1, runningSeen = 0;
    for (const QString& t : statuses) {
      const auto m = running.match(t);
      if (!m.hasMatch()) continue;
      ++runningSeen;
      QVERIFY2(m.captured(2).toInt() >= lastPercent, qPrintable(statuses.join(" | ")));  // never goes back
      lastPercent = m.captured(2).toInt();
    }
    QVERIFY2(runningSeen >= 2 && lastPercent > 0 && lastPercent < 100, qPrintable(statuses.join(" | ")));
    QVERIFY2(statuses.last().startsWith("Story: done · 100 %"), qPrintable(statuses.last()));

    const QDir dir(bench.lastStoryDir());
    for (const char* f : {"0-original.plm", "1-sparse.plm", "2-pruned.plm", "3-fine-tuned.plm", "pruned.onnx", "story.json",
                          "report.html", "report.pdf", "sparse/results.csv", "fine-tune/results.csv"})
      QVERIFY2(dir.exists(f), f);

    QFile manifest(dir.filePath("story.json"));
    QVERIFY(manifest.open(QIODevice::ReadOnly));
    const QJsonObject story = QJsonDocument::fromJson(manifest.readAll()).object();
    const QJsonArray stages = story["stages"].toArray();
    QCOMPARE(stages.size(), 4);
    for (const auto& s : stages) {
      const double metric = s.toObject()["metric"].toDouble(-1);
      QVERIFY2(metric >= 0 && metric <= 1, qPrintable(s.toObject()["name"].toString()));
    }
    QVERIFY(stages[0].toObject()["metric"].toDouble() > 0.8);  // the shipped model is trained
    QCOMPARE(story["commands"].toArray().size(), 5);

    const int64_t before = loadCheckpoint(dir.filePath("0-original.plm").toStdString()).graph.parameterCount();
    const int64_t after = loadCheckpoint(dir.filePath("3-fine-tuned.plm").toStdString()).graph.parameterCount();
    QVERIFY2(after < before * 0.9, qPrintable(QString("%1 -> %2").arg(before).arg(after)));
    QCOMPARE(importOnnx(dir.filePath("pruned.onnx").toStdString()).parameterCount() <= after, true);  // BN folded

    QFile html(dir.filePath("report.html"));
    QVERIFY(html.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(html.readAll());
    for (const char* section : {"Before and after", "Channels per layer", "before and after sparse training", "Training",
                                "The pruned network", "Reproduce this run", "prunelab-cli prune", "Latency fell", "The cut itself, before any fine-tuning, cost"})
      QVERIFY2(text.contains(section), section);
    QCOMPARE(text.count("data:image/png;base64,"), 4);  // self-contained: every picture inline
    QVERIFY(!text.contains("src=\"img/"));
    QFile pdf(dir.filePath("report.pdf"));
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5) == "%PDF-");
    QVERIFY(pdf.size() > 50000);

    // The CLI rebuilds the report from the directory alone.
    QProcess cli;
    cli.start(PRUNELAB_CLI, {"report", dir.path(), "--out", dir.filePath("again.html"), "--no-latency"});
    QVERIFY(cli.waitForFinished(120000));
    QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
    QFile again(dir.filePath("again.html"));
    QVERIFY(again.open(QIODevice::ReadOnly));
    QVERIFY(QString::fromUtf8(again.readAll()).contains("Reproduce this run"));
  }
};

QTEST_MAIN(TestStory)
#include "test_story.moc"
