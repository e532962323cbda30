// The sr autopilot's controller (train/sr_autopilot.h) on a synthetic, deterministic
// plant: gammas pulled toward their starting values by a "task" gradient and pushed to
// zero by sr x sign(gamma), with SGD momentum and a cosine lr - the dynamics of Network
// Slimming without a network. Also its measurement and its option checks.

#include <QtTest/QtTest>
#include <cmath>
#include <vector>

#include "train/sr_autopilot.h"
#include "util/error.h"

using namespace prunelab;

namespace {

struct Plant {
  std::vector<float> gamma, start, pull, velocity;
  Plant(double pullScale, double gammaScale, int n = 400) {
    for (int i = 0; i < n; ++i) {
      const double u = (i + 0.5) / n;
      gamma.push_back(static_cast<float>(gammaScale * 0.05 * std::exp(3 * u)));  // 0.05 .. 1 x scale, none sparse
      // Channels differ in how much the task needs them (a fixed permutation, no RNG).
      pull.push_back(static_cast<float>(pullScale * std::exp(4 * (((i * 37) % n) / double(n) - 0.5))));
    }
    start = gamma;
    velocity.assign(gamma.size(), 0.f);
  }
  void step(double lr, double sr) {
    for (size_t i = 0; i < gamma.size(); ++i) {
      const double sign = (gamma[i] > 0) - (gamma[i] < 0);
      const double grad = sr * sign - pull[i] * (start[i] - gamma[i]);
      velocity[i] = static_cast<float>(0.9 * velocity[i] + grad);
      gamma[i] -= static_cast<float>(lr * velocity[i]);
    }
  }
};

// The trainer's cosine schedule, optionally after a one-epoch linear warm-up from 0.1 x lr.
double scheduleLr(double epochPos, int epochs, bool warmup) {
  double f = 0.5 * (1 + std::cos(M_PI * epochPos / epochs));
  if (warmup && epochPos < 1) f *= 0.1 + 0.9 * epochPos;
  return 0.1 * f;
}

struct Run {
  double endFraction = 0;
  double maxAbove = -1;  // largest (fraction - final target) seen at any update
  double srMin = 1e9, srMax = 0;
};

Run fly(const SrAutopilotOptions& o, double pull, int stepsPerEpoch, int epochs, double gammaScale = 0.6,
        bool warmup = false) {
  Plant plant(pull, gammaScale);
  auto measure = [&] { return measureSparsity(plant.gamma, o.threshold, o.target); };
  SrAutopilot pilot(o, 0.0, 0.0, measure());
  Run r;
  double sr = pilot.sr();
  for (int s = 0; s < stepsPerEpoch * epochs; ++s) {
    const double pos = double(s) / stepsPerEpoch, lr = scheduleLr(pos, epochs, warmup);
    if (s % o.everySteps == 0) {
      const SparsityMeasure m = measure();
      sr = pilot.update(pos, m, lr, stepsPerEpoch);
      r.maxAbove = std::max(r.maxAbove, m.fraction - o.target);
    }
    r.srMin = std::min(r.srMin, sr);
    r.srMax = std::max(r.srMax, sr);
    plant.step(lr, sr);
  }
  r.endFraction = measure().fraction;
  return r;
}

}  // namespace

class TestSrAutopilot : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void measuresFractionAndQuantile() {
    const std::vector<float> g = {0.5f, 0.001f, 0.02f, 0.005f};
    SparsityMeasure m = measureSparsity(g, 0.01, 0.5);
    QCOMPARE(m.fraction, 0.5);
    QCOMPARE(m.quantile, double(0.005f));  // the 2nd smallest of 4
    m = measureSparsity(g, 0.01, 0.75);
    QCOMPARE(m.quantile, double(0.02f));   // the 3rd: above the threshold, the fraction is short of 75%
    m = measureSparsity(g, 0.6, 0.75);
    QCOMPARE(m.fraction, 1.0);
  }

  void reachesTheTargetByTheDeadline_data() {
    QTest::addColumn<double>("target");
    QTest::addColumn<double>("pull");
    QTest::addColumn<int>("stepsPerEpoch");
    QTest::addColumn<double>("gammaScale");
    QTest::addColumn<bool>("warmup");
    QTest::newRow("40% weak task, 30 steps/epoch") << 0.4 << 0.1 << 30 << 0.6 << false;
    QTest::newRow("40% strong task, 30 steps/epoch") << 0.4 << 0.5 << 30 << 0.6 << false;
    QTest::newRow("40% strong task, 100 steps/epoch") << 0.4 << 0.5 << 100 << 0.6 << false;
    QTest::newRow("20% weak task, 50 steps/epoch") << 0.2 << 0.1 << 50 << 0.6 << false;
    QTest::newRow("60% weak task, 50 steps/epoch") << 0.6 << 0.1 << 50 << 0.6 << false;
    // A trained model's gammas (up to ~1.5) and the recipe's warm-up: the first steps have
    // a tenth of the lr, and the push must not overshoot once the lr arrives.
    QTest::newRow("40% trained gammas, warm-up, 48 steps/epoch") << 0.4 << 0.1 << 48 << 1.5 << true;
  }
  void reachesTheTargetByTheDeadline() {
    QFETCH(double, target);
    QFETCH(double, pull);
    QFETCH(int, stepsPerEpoch);
    QFETCH(double, gammaScale);
    QFETCH(bool, warmup);
    SrAutopilotOptions o;
    o.target = target;
    o.byEpoch = 3;
    const Run r = fly(o, pull, stepsPerEpoch, 3, gammaScale, warmup);
    qInfo("end fraction %.3f (target %.2f), at most %.3f above it, sr %.2g..%.2g", r.endFraction, target, r.maxAbove,
          r.srMin, r.srMax);
    QVERIFY2(std::fabs(r.endFraction - target) <= 0.03, qPrintable(QString::number(r.endFraction)));
    QVERIFY2(r.maxAbove < 0.05, "the fraction overshot the target on the way");
    QVERIFY(r.srMin >= o.srMin && r.srMax <= o.srMax);
  }

  // A plant sr cannot move keeps sr at its upper clamp; the moment the fraction is ahead,
  // sr comes off the clamp (the integral did not wind up while clamped).
  void clampsWithoutWindUp() {
    SrAutopilotOptions o;
    o.target = 0.4;
    o.byEpoch = 2;
    SrAutopilot pilot(o, 0.0, 1e-3, {0.0, 0.5});
    double sr = 0;
    for (int s = 1; s <= 400; ++s) sr = pilot.update(s / 100.0, {0.0, 0.5}, 0.1, 100);  // stuck far behind
    QCOMPARE(sr, o.srMax);
    sr = pilot.update(4.01, {0.6, 0.001}, 0.1, 100);  // suddenly ahead
    QVERIFY2(sr < 0.5 * o.srMax, qPrintable(QString::number(sr)));
  }

  // A validation metric that drops more than the margin halves sr and stops it from
  // rising for holdEpochs, even with the fraction behind; afterwards it may rise again.
  void metricDropBacksOff() {
    SrAutopilotOptions o;
    o.target = 0.4;
    o.byEpoch = 3;
    o.metricMargin = 0.05;
    SrAutopilot pilot(o, 0.0, 1e-3, {0.0, 0.05});
    pilot.setReference(0.90);
    QVERIFY(!pilot.observeMetric(1.0, 0.86));  // within the margin
    const double before = pilot.update(1.0, {0.1, 0.03}, 0.05, 100);
    QVERIFY(pilot.observeMetric(1.0, 0.80));
    QVERIFY2(pilot.note().find("backed off") != std::string::npos, pilot.note().c_str());
    QCOMPARE(pilot.sr(), before * o.backoff);
    double sr = pilot.sr();
    for (int s = 1; s < 10; ++s) {  // behind schedule all along, but holding
      const double next = pilot.update(1.0 + s / 10.0, {0.1, 0.03}, 0.05, 100);
      QVERIFY2(next <= sr * (1 + 1e-12), "sr rose during the hold");
      sr = next;
    }
    QVERIFY(pilot.update(2.2, {0.1, 0.03}, 0.05, 100) > sr);  // the hold is over
  }

  void badOptionsNameTheOption_data() {
    QTest::addColumn<double>("target");
    QTest::addColumn<int>("byEpoch");
    QTest::addColumn<double>("threshold");
    QTest::addColumn<QString>("option");
    QTest::newRow("target 0") << 0.0 << 2 << 0.01 << "--sparsity-target";
    QTest::newRow("target 1") << 1.0 << 2 << 0.01 << "--sparsity-target";
    QTest::newRow("target -0.2") << -0.2 << 2 << 0.01 << "--sparsity-target";
    QTest::newRow("target nan") << std::nan("") << 2 << 0.01 << "--sparsity-target";
    QTest::newRow("by-epoch 0") << 0.4 << 0 << 0.01 << "--by-epoch";
    QTest::newRow("by-epoch > epochs") << 0.4 << 4 << 0.01 << "--by-epoch";
    QTest::newRow("threshold 0") << 0.4 << 2 << 0.0 << "--sparsity-threshold";
  }
  void badOptionsNameTheOption() {
    QFETCH(double, target);
    QFETCH(int, byEpoch);
    QFETCH(double, threshold);
    QFETCH(QString, option);
    SrAutopilotOptions o;
    o.target = target;
    o.byEpoch = byEpoch;
    o.threshold = threshold;
    try {
      checkAutopilotOptions(o, 3);
      QFAIL("accepted");
    } catch (const Error& e) {
      QCOMPARE(QString::fromStdString(e.subject()), option);
    }
    o.target = 0.4;
    o.byEpoch = 3;
    o.threshold = 0.01;
    checkAutopilotOptions(o, 3);  // the same with good values passes
  }
};

QTEST_APPLESS_MAIN(TestSrAutopilot)
#include "test_sr_autopilot.moc"
