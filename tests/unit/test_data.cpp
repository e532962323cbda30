// Datasets, transforms and the prefetching loader.

#include <ATen/ATen.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "data/data_loader.h"
#include "data/image_folder_dataset.h"
#include "data/in_memory_dataset.h"
#include "test_helpers.h"
#include "util/error.h"

using namespace prunelab;

using prunelab::test::errorOf;

class TestData : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const std::string& p) { return m_dir.path().toStdString() + "/" + p; }

 private Q_SLOTS:
  void fashionMnistLoads() {
    const DatasetSplits d = openClassificationData("fashion-mnist");
    QCOMPARE(d.train->size(), size_t(60000));
    QCOMPARE(d.val->size(), size_t(10000));
    QCOMPARE(d.train->numClasses(), int64_t(10));
    const ImageU8 img = d.train->image(0);
    QCOMPARE(img.height, 28);
    QCOMPARE(img.channels, 1);
    QCOMPARE(d.train->label(0), int64_t(9));  // the first training item is an ankle boot
    std::vector<int> counts(10, 0);
    for (size_t i = 0; i < d.val->size(); ++i) ++counts[d.val->label(i)];
    for (int c : counts) QCOMPARE(c, 1000);
  }

  // Same batches for any number of workers, and per-epoch reshuffles.
  void loaderIsDeterministic() {
    DatasetPtr data = limitDataset(openClassificationData("fashion-mnist").train, 1000, 7);
    LoaderOptions o;
    o.batchSize = 64;
    o.seed = 3;
    o.transform = fashionMnistTrainTransform();
    auto collect = [&](int workers, int epoch) {
      o.workers = workers;
      DataLoader l(data, o);
      l.startEpoch(epoch);
      std::vector<at::Tensor> images;
      Batch b;
      while (l.next(b)) images.push_back(b.images);
      return at::cat(images);
    };
    const at::Tensor one = collect(1, 0), three = collect(3, 0), epoch1 = collect(2, 1);
    QCOMPARE(one.size(0), int64_t(1000));
    QVERIFY(at::equal(one, three));
    QVERIFY(!at::equal(one, epoch1));
  }

  void transformsByHand() {
    ImageU8 img{2, 3, 1, {0, 10, 20, 30, 40, 50}};
    TransformOptions t;
    t.mean = {0.5f};
    t.std = {0.25f};
    float out[6];
    toNormalizedChw(img, t, out);
    QVERIFY(std::abs(out[1] - (10 / 255.f - 0.5f) / 0.25f) < 1e-6);
    // A pad+crop shift moves pixels by at most `pad` and fills with zeros.
    TransformOptions crop;
    crop.padCrop = 1;
    ImageU8 grid{3, 3, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
    for (size_t i = 0; i < 20; ++i) {
      ImageU8 g = grid;
      SampleRng rng = sampleRng(1, 0, i);
      augment(g, crop, rng, true);
      int nonZero = 0;
      for (auto v : g.pixels) nonZero += v != 0;
      QVERIFY(nonZero == 4 || nonZero == 6 || nonZero == 9);
    }
    // Flip is an involution of the row order.
    TransformOptions flip;
    flip.hflip = true;
    ImageU8 row{1, 3, 1, {1, 2, 3}};
    int flipped = 0;
    for (size_t i = 0; i < 40; ++i) {
      ImageU8 r = row;
      SampleRng rng = sampleRng(2, 0, i);
      augment(r, flip, rng, true);
      QVERIFY(r.pixels == std::vector<uint8_t>({1, 2, 3}) || r.pixels == std::vector<uint8_t>({3, 2, 1}));
      flipped += r.pixels[0] == 3;
    }
    QVERIFY(flipped > 5 && flipped < 35);
  }

  void imageFolders() {
    for (const char* cls : {"cat", "dog"}) {
      std::filesystem::create_directories(path(std::string("train/") + cls));
      std::filesystem::create_directories(path(std::string("val/") + cls));
      for (int i = 0; i < 3; ++i) {
        cv::Mat m(20 + i, 24, CV_8UC3, cv::Scalar(i * 40, 100, 200));
        cv::imwrite(path(std::string("train/") + cls + "/" + std::to_string(i) + ".png"), m);
        cv::imwrite(path(std::string("val/") + cls + "/" + std::to_string(i) + ".jpg"), m);
      }
    }
    const DatasetSplits d = openClassificationData(m_dir.path().toStdString());
    QCOMPARE(d.train->size(), size_t(6));
    QCOMPARE(d.train->classNames(), (std::vector<std::string>{"cat", "dog"}));
    QCOMPARE(d.val->label(5), int64_t(1));
    LoaderOptions o;
    o.batchSize = 4;
    o.transform.resize = 16;
    DataLoader l(d.train, o);
    l.startEpoch(0);
    Batch b;
    QVERIFY(l.next(b));
    QCOMPARE(b.images.sizes().vec(), (std::vector<int64_t>{4, 3, 16, 16}));
    // An undecodable image is reported by name, from the worker thread.
    std::ofstream(path("train/dog/broken.png")) << "not a png";
    const DatasetSplits broken = openClassificationData(m_dir.path().toStdString());
    DataLoader bl(broken.train, o);
    bl.startEpoch(0);
    const std::string e = errorOf([&] {
      Batch x;
      while (bl.next(x)) {
      }
    });
    QVERIFY2(e.find("broken.png") != std::string::npos, e.c_str());
  }

  void cifarBinaryAndBadLabels() {
    std::filesystem::create_directories(path("cifar"));
    auto write = [&](const std::string& f, uint8_t label) {
      std::ofstream out(path("cifar/" + f), std::ios::binary);
      for (int r = 0; r < 4; ++r) {
        out.put(static_cast<char>(r == 2 ? label : r));
        for (int i = 0; i < 3072; ++i) out.put(static_cast<char>(i % 251));
      }
    };
    for (int i = 1; i <= 5; ++i) write("data_batch_" + std::to_string(i) + ".bin", 3);
    write("test_batch.bin", 3);
    const DatasetSplits d = openClassificationData(path("cifar"));
    QCOMPARE(d.train->size(), size_t(20));
    const ImageU8 img = d.train->image(1);
    QCOMPARE(img.channels, 3);
    QCOMPARE(int(img.pixels[1]), 1024 % 251);  // green plane of pixel 0
    write("test_batch.bin", 42);
    const std::string e = errorOf([&] { openClassificationData(path("cifar")); });
    QVERIFY2(e.find("test_batch.bin") != std::string::npos && e.find("42") != std::string::npos, e.c_str());
  }
};

QTEST_APPLESS_MAIN(TestData)
#include "test_data.moc"
