// Detector training end to end (label "train": about a minute): YOLOv8n- and
// YOLOv5n-scale models fit a handful of fashion-det images without augmentation and
// then find them, i.e. data, loss, assigner, optimizer, decode, NMS and mAP agree.

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>

#include "data/detection/detection_dataset.h"
#include "data/detection/fashion_det.h"
#include "models/model_loader.h"
#include "test_helpers.h"
#include "train/detection_task.h"
#include "train/trainer.h"

using namespace prunelab;
namespace fs = std::filesystem;

class TestDetectionTraining : public QObject {
  Q_OBJECT
  QTemporaryDir m_tmp;
  std::string m_root;

 private Q_SLOTS:
  void initTestCase() {
    FashionDetOptions o;
    o.outDir = (fs::path(m_tmp.path().toStdString()) / "fd").string();
    o.trainImages = 8;
    o.valImages = 8;
    o.size = 96;
    makeFashionDet(o);
    m_root = o.outDir;
  }

  // The whole detection training path: a yolov8n-scale model fits 8 images (no
  // augmentation) and then finds them: the loss falls and mAP@0.5 on those images rises.
  void detectorLearnsATinySet_data() {
    // YOLOv5's anchor matching and objectness learn more slowly than the v8 task-aligned
    // loss (also on the full dataset, see BENCHMARKS.md), hence the lower bars.
    QTest::addColumn<QString>("model");
    QTest::addColumn<double>("lossFactor");
    QTest::addColumn<double>("minMap50");
    QTest::newRow("yolov8n") << "yolov8n" << 0.5 << 0.5;
    QTest::newRow("yolov5n") << "yolov5n" << 0.75 << 0.15;
  }
  void detectorLearnsATinySet() {
    QFETCH(QString, model);
    QFETCH(double, lossFactor);
    QFETCH(double, minMap50);
    const fs::path root = m_root;
    const fs::path yaml = fs::path(m_tmp.path().toStdString()) / ("overfit_" + model.toStdString() + ".yaml");
    std::ofstream(yaml) << "path: " << root.string() << "\ntrain: images/val\nval: images/val\nnames: [a,b,c,d,e,f,g,h,i,j]\n";
    const DetectionSplits data = openYoloData(yaml.string());
    ModelRequest req;
    req.model = model.toStdString();
    req.numClasses = 10;
    auto graph = std::make_shared<Graph>(loadModel(req));

    DetectionTaskOptions to;
    to.augment.imgsz = 96;
    to.augment.mosaic = 0;
    to.augment.scale = to.augment.translate = 0;
    to.augment.hsvH = to.augment.hsvS = to.augment.hsvV = 0;
    to.augment.flipLr = 0;
    to.valBatch = 8;
    TrainerOptions o;
    o.epochs = 200;  // one batch per epoch: 200 steps
    o.batchSize = 8;
    o.lr = 0.01;
    o.momentum = 0.937;
    o.schedule.warmupEpochs = 2;
    o.workers = 1;
    o.gammaEvery = 0;
    o.validateEvery = 50;
    auto task = std::make_shared<DetectionTask>(data, to);
    Trainer trainer(graph, task, o);
    struct Losses : TrainObserver {
      std::vector<double> epochLoss;
      void onEpoch(const EpochStats& s) override { epochLoss.push_back(s.trainLoss); }
    } losses;
    trainer.addObserver(&losses);
    const TrainResult r = trainer.run();
    double map50 = 0;
    for (const auto& [k, v] : r.last.taskMetrics)
      if (k == "metrics/mAP50") map50 = v;
    qInfo("%s: loss %.3f -> %.3f, mAP50 %.3f", qPrintable(model), losses.epochLoss.front(), losses.epochLoss.back(), map50);
    QVERIFY(losses.epochLoss.back() < lossFactor * losses.epochLoss.front());
    QVERIFY2(map50 > minMap50, qPrintable(QString("mAP50 %1").arg(map50)));
  }
};

QTEST_GUILESS_MAIN(TestDetectionTraining)
#include "test_detection_training.moc"
