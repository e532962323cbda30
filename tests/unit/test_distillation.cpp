// Knowledge distillation (train/distillation.h, issue 18 item 5): the KD terms against
// hand computations, the classifier's (1 - W) CE + W T^2 KL mix inside the task, the
// gradient the student gets, and the bad-input errors.
//
// Pinned numbers come from /usr/bin/python3 with Debian's torch 1.13, written
// independently of the C++ (kl_div(log_softmax(s/T), log_softmax(t/T), 'batchmean',
// log_target=True) * T^2; binary KL as BCE-with-logits(s/T, p) - BCE-with-logits(t/T, p));
// the classifier term is also recomputed here in plain doubles.

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <QtTest/QtTest>
#include <cmath>

#include "test_helpers.h"
#include "train/classification_task.h"
#include "train/distillation.h"
#include "util/error.h"

using namespace prunelab;

namespace {

at::Tensor doubles(std::initializer_list<double> v, at::IntArrayRef shape) {
  return at::tensor(std::vector<double>(v), at::kDouble).reshape(shape);
}

// T^2 * mean over rows of sum_c p_c log(p_c / q_c), p = softmax(t / T), q = softmax(s / T).
double handKd(const std::vector<std::vector<double>>& s, const std::vector<std::vector<double>>& t, double T) {
  double total = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    double zs = 0, zt = 0;
    for (size_t c = 0; c < s[i].size(); ++c) {
      zs += std::exp(s[i][c] / T);
      zt += std::exp(t[i][c] / T);
    }
    for (size_t c = 0; c < s[i].size(); ++c) {
      const double p = std::exp(t[i][c] / T) / zt, q = std::exp(s[i][c] / T) / zs;
      total += p * std::log(p / q);
    }
  }
  return T * T * total / double(s.size());
}

template <typename Fn>
QString errorOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

}  // namespace

class TestDistillation : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void classifierTermMatchesHandComputation() {
    const std::vector<std::vector<double>> s = {{1, 2, 3}, {0, -1, 0.5}}, t = {{3, 1, 0.2}, {0.1, 0.4, -2}};
    const at::Tensor st = doubles({1, 2, 3, 0, -1, 0.5}, {2, 3}), tt = doubles({3, 1, 0.2, 0.1, 0.4, -2}, {2, 3});
    const double kd = classificationKdTerm(st, tt, 2.0).item<double>();
    QVERIFY2(std::abs(kd - 1.505785025738017) < 1e-12, qPrintable(QString::number(kd, 'g', 17)));  // python torch
    QVERIFY(std::abs(kd - handKd(s, t, 2.0)) < 1e-12);
    // Other temperatures: the T^2 and the softening both matter.
    for (double T : {0.5, 1.0, 4.0, 10.0}) {
      const double x = classificationKdTerm(st, tt, T).item<double>();
      QVERIFY2(std::abs(x - handKd(s, t, T)) < 1e-10, qPrintable(QString("T %1: %2 vs %3").arg(T).arg(x).arg(handKd(s, t, T))));
    }
    // Zero for a student equal to its teacher, positive otherwise; float32 too.
    QVERIFY(std::abs(classificationKdTerm(tt, tt, 3.0).item<double>()) < 1e-12);
    QVERIFY(classificationKdTerm(st.to(at::kFloat), tt.to(at::kFloat), 2.0).item<double>() > 1.5);
  }

  void classifierGradientIsTemperatureTimesProbabilityGap() {
    // d/ds [T^2 KL(p || q)] = T (q - p) per row, / N for the batch mean.
    const double T = 3.0;
    const at::Tensor s = doubles({1, 2, 3, 0, -1, 0.5}, {2, 3}).requires_grad_(true);
    const at::Tensor t = doubles({3, 1, 0.2, 0.1, 0.4, -2}, {2, 3}).requires_grad_(true);
    classificationKdTerm(s, t, T).backward();
    const at::Tensor expected = T * (at::softmax(s.detach() / T, 1) - at::softmax(t.detach() / T, 1)) / 2.0;
    QVERIFY((s.grad() - expected).abs().max().item<double>() < 1e-12);
    QVERIFY(!t.grad().defined());  // the teacher is a constant
  }

  void taskMixesCrossEntropyAndKd() {
    ClassificationTask task(DatasetSplits{}, TransformOptions{}, TransformOptions{}, 0.0);
    Batch batch;
    batch.labels = at::tensor({int64_t(2), int64_t(1)});
    batch.images = at::zeros({2, 1, 1, 1});
    const at::Tensor s = doubles({1, 2, 3, 0, -1, 0.5}, {2, 3});
    const at::Tensor t = doubles({3, 1, 0.2, 0.1, 0.4, -2}, {2, 3});
    task.beginEpoch();
    DistillTargets kd{{t}, DistillOptions{0.3, 2.0}};
    const double loss = task.loss({s}, batch, &kd).item<double>();
    // 0.7 * CE + 0.3 * KD, python torch: CE 1.2558682848905545, KD 1.505785025738017.
    QVERIFY2(std::abs(loss - 1.3308433071447932) < 1e-12, qPrintable(QString::number(loss, 'g', 17)));
    EpochStats es;
    task.endEpoch(es);
    QCOMPARE(es.taskMetrics.size(), size_t(2));
    QCOMPARE(es.taskMetrics[0].first, std::string("train/ce_loss"));
    QVERIFY(std::abs(es.taskMetrics[0].second - 1.2558682848905545) < 1e-12);
    QCOMPARE(es.taskMetrics[1].first, std::string("train/kd_loss"));
    QVERIFY(std::abs(es.taskMetrics[1].second - 1.505785025738017) < 1e-12);
    QVERIFY(std::abs(es.trainLoss - loss) < 1e-12);

    // W = 1 with the teacher's own logits: nothing left to learn.
    task.beginEpoch();
    DistillTargets same{{s}, DistillOptions{1.0, 4.0}};
    QVERIFY(std::abs(task.loss({s}, batch, &same).item<double>()) < 1e-12);
    // Without a teacher: the plain cross-entropy, and no distillation columns.
    task.beginEpoch();
    QVERIFY(std::abs(task.loss({s}, batch, nullptr).item<double>() - 1.2558682848905545) < 1e-12);
    EpochStats plain;
    task.endEpoch(plain);
    QVERIFY(plain.taskMetrics.empty());
  }

  void binaryTermMatchesHandComputation() {
    const at::Tensor t = doubles({2, -3, 0}, {3}), s = doubles({-1, -2.5, 4}, {3});
    const at::Tensor kd = binaryKdTerm(s, t, 2.0);
    const double expected[] = {1.0296126584275642, 0.019637689644126155, 1.7351233219321096};  // python torch
    for (int i = 0; i < 3; ++i) QVERIFY2(std::abs(kd[i].item<double>() - expected[i]) < 1e-12, qPrintable(QString::number(i)));
    // Far-out logits stay finite (no log(0)).
    const at::Tensor far = binaryKdTerm(doubles({-80, 80}, {2}), doubles({80, -80}, {2}), 1.0);
    QVERIFY(at::isfinite(far).all().item<bool>());
    QVERIFY(far.min().item<double>() > 70);
  }

  void detectionTermsMatchHandComputation() {
    // dfl: one level, 1x2 grid, reg_max 2, one class: raw [1, 9, 1, 2].
    detect::YoloHead dfl;
    dfl.style = "dfl";
    dfl.nc = 1;
    dfl.regMax = 2;
    dfl.strides = {8};
    const at::Tensor ar18 = at::arange(18, at::kDouble);
    const at::Tensor s = (ar18 * 0.37 - 3.0).reshape({1, 9, 1, 2}), t = (at::cos(ar18) * 2.5).reshape({1, 9, 1, 2});
    const double kd = detectionKdTerm(dfl, {s}, {t}, 2.0).item<double>();
    QVERIFY2(std::abs(kd - 4.21834278651868) < 1e-10, qPrintable(QString::number(kd, 'g', 17)));  // python torch
    QVERIFY(std::abs(detectionKdTerm(dfl, {t}, {t}, 2.0).item<double>()) < 1e-12);

    // v5: one level, one anchor, 1x2 grid, two classes: raw [1, 1, 1, 2, 7].
    detect::YoloHead v5;
    v5.style = "v5";
    v5.nc = 2;
    v5.strides = {8};
    const at::Tensor ar14 = at::arange(14, at::kDouble);
    const at::Tensor s5 = (at::sin(ar14 * 0.9) * 3).reshape({1, 1, 1, 2, 7}), t5 = (ar14 * 0.41 - 2.2).reshape({1, 1, 1, 2, 7});
    const double kd5 = detectionKdTerm(v5, {s5}, {t5}, 2.0).item<double>();
    QVERIFY2(std::abs(kd5 - 6.443203735006934) < 1e-10, qPrintable(QString::number(kd5, 'g', 17)));  // python torch
    QVERIFY(std::abs(detectionKdTerm(v5, {t5}, {t5}, 2.0).item<double>()) < 1e-12);

    // The student's gradient flows; the decoded output after the levels is ignored.
    const at::Tensor sg = s.clone().requires_grad_(true);
    detectionKdTerm(dfl, {sg, at::zeros({1})}, {t, at::ones({1})}, 2.0).backward();
    QVERIFY(sg.grad().abs().sum().item<double>() > 0);
  }

  void badOptionsAndTeachersAreNamed() {
    QVERIFY(errorOf([] { checkDistillOptions({1.5, 4.0}); }).contains("--kd-weight"));
    QVERIFY(errorOf([] { checkDistillOptions({-0.1, 4.0}); }).contains("--kd-weight"));
    QVERIFY(errorOf([] { checkDistillOptions({std::nan(""), 4.0}); }).contains("--kd-weight"));
    QVERIFY(errorOf([] { checkDistillOptions({0.5, 0.0}); }).contains("--kd-temperature"));
    QVERIFY(errorOf([] { checkDistillOptions({0.5, -2.0}); }).contains("--kd-temperature"));
    QVERIFY(errorOf([] { checkDistillOptions({0.0, 1.0}); }).isEmpty());
    QVERIFY(errorOf([] { checkDistillOptions({1.0, 0.1}); }).isEmpty());
    const QString shape = errorOf([] {
      checkTeacherOutputs({at::zeros({4, 10})}, {at::zeros({4, 5})}, "--teacher t.plm");
    });
    QVERIFY2(shape.contains("--teacher t.plm") && shape.contains("[4, 5]") && shape.contains("[4, 10]"), qPrintable(shape));
    QVERIFY(errorOf([] { checkTeacherOutputs({at::zeros({4, 10})}, {at::zeros({4, 10}), at::zeros({1})}, "T"); })
                .contains("2 outputs"));
    // A detector in training leaves its decoded output empty: only the raw levels count.
    QVERIFY(errorOf([] {
      checkTeacherOutputs({at::zeros({2, 14, 25}), at::zeros({0})}, {at::zeros({2, 14, 25}), at::zeros({2, 14, 525})}, "T");
    }).isEmpty());
    QVERIFY(errorOf([] {
      checkTeacherOutputs({at::zeros({2, 14, 25}), at::zeros({0})}, {at::zeros({2, 15, 25}), at::zeros({2, 15, 525})}, "T");
    }).contains("[2, 15, 25]"));
    QVERIFY(errorOf([] { classificationKdTerm(at::zeros({4, 10}), at::zeros({4, 5}), 1.0); }).contains("[4, 5]"));
  }
};

QTEST_GUILESS_MAIN(TestDistillation)
#include "test_distillation.moc"
