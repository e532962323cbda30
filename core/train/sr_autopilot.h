#pragma once
// The sr autopilot: moves the Network Slimming coefficient sr during a run so that the
// fraction of BN |gamma| below a threshold reaches a target F by epoch E, without letting
// the validation metric collapse on the way.
//
// Design
// - What is steered. The fraction itself is a poor signal to feed back: it does not move
//   at all until the first gammas cross the threshold (a dead time that winds any
//   integrator up and ends in overshoot), then jumps. The pilot steers instead the |gamma|
//   at the target's rank, q_F (the F-quantile: below the threshold exactly when the
//   fraction reaches F), which moves as soon as sr does. Its schedule is a geometric ramp
//   from its value at engagement to aim x threshold (a little below the threshold, so
//   the fraction lands on F rather than just short of it), reached at lead x E epochs and
//   then held. The curves and results.csv show the equivalent fraction schedule, a linear
//   ramp from the fraction at engagement to F over the same span (targetAt()).
// - Law. The quantile integrates sr: L1 with a sign subgradient moves every gamma by about
//   lr x sr per step, times 1 / (1 - momentum) once SGD's momentum has built up, less what
//   the task pulls back. So the law is kinematic:
//     sr = K x gap / (H x lr),   gap = q_F + inFlight - scheduled q_F(now + horizon)
//   (H: the horizon in steps, at least 2 x lagSteps): the push per step that brings the
//   quantile onto the schedule one horizon ahead at the lr in effect, so a warm-up's or a
//   cosine's small lr is compensated. inFlight is the quantile's recent fall per step times
//   lagSteps: momentum keeps pushing after sr drops, and without this derivative term the
//   push overshoots (measured on ResNet-20: the 40% quantile went 0.73 -> 0.05 in 36 steps).
//   K, the push's efficiency (first guess 1 - momentum = 0.1), is learnt by an integral on
//   the log error log(q_F / scheduled q_F), in [-1.5, 1.5] (q_F floored at threshold / 4:
//   gammas that reached ~0 stop counting); it runs on lr-weighted time (epochs x lr / the
//   largest lr seen) so it does not wind up while a falling lr slows the plant, and stops
//   growing while sr is clamped at srMax.
// - Limits. sr is clamped to [srMin, srMax] (the Train panel's slider range by default);
//   K does not grow while sr is clamped at srMax (anti-windup), so leaving the clamp is
//   immediate once the quantile catches up.
// - Metric guard. At each validation the metric is compared to the reference (the
//   model's metric before training, or the first one seen). A drop larger than
//   `metricMargin` backs off: sr and K are multiplied by `backoff` and for the next
//   `holdEpochs` sr stays at or below that value and K cannot grow. The target may then be
//   reached late: the metric wins over the deadline, and the run's log says so.
// - Tuning. The defaults were chosen on the synthetic plant of tests/unit/test_sr_autopilot
//   (momentum SGD, cosine lr with and without warm-up, 30-100 steps per epoch) and checked on ResNet-20 /
//   Fashion-MNIST (BENCHMARKS.md, "sr autopilot").
//
// The class is plain arithmetic (no tensors, no clock): the trainer feeds it measurements
// and applies its output, tests drive it with a synthetic plant. Not thread-safe: one
// owner (the training thread).

#include <string>
#include <vector>

namespace prunelab {

struct SrAutopilotOptions {
  double target = 0.0;      // F in (0, 1): the fraction of |gamma| < threshold to reach; 0 = off
  int byEpoch = 0;          // E in [1, epochs]: reach F by the end of this (1-based) epoch
  double threshold = 0.01;  // |gamma| below this counts as sparse (> 0)
  int everySteps = 1;       // controller period in training steps
  double srMin = 1e-6, srMax = 0.1;
  double srStart = 1e-4;    // the first sr when the run's sr is 0
  double lead = 0.8;        // the ramp reaches F at lead x byEpoch
  double aim = 0.9;         // the target quantile is steered to aim x threshold
  double horizon = 0.2;     // epochs: the law aims at where the schedule will be this much later
  double efficiency = 0.1;  // first guess of the push's efficiency (1 - SGD momentum)
  double lagSteps = 10.0;   // steps momentum carries a push on (momentum / (1 - momentum))
  double ki = 12.0;         // log efficiency per unit of error (log |gamma|) per epoch at the largest lr
  double metricMargin = 0.05;  // back off when the metric drops more than this (absolute); <= 0: never
  double backoff = 0.5;     // drift multiplier on a back-off
  double holdEpochs = 1.0;  // after a back-off, sr does not rise for this long

  bool enabled() const { return target > 0.0; }
};

// Throws prunelab::Error naming the CLI option (--sparsity-target, --by-epoch,
// --sparsity-threshold, --sparsity-max-drop) when a value is out of range for a run of
// `epochs` epochs.
void checkAutopilotOptions(const SrAutopilotOptions& o, int epochs);

// What the pilot measures: the fraction of |gamma| below the threshold, and the |gamma|
// at the target's quantile (the value the target-th smallest gamma has: below the
// threshold exactly when the fraction reaches the target).
struct SparsityMeasure {
  double fraction = 0.0;
  double quantile = 0.0;
};
SparsityMeasure measureSparsity(std::vector<float> absGammas, double threshold, double target);

class SrAutopilot {
 public:
  // Engages at `epochPos` (epochs done, fractional) with the run's current sr and what
  // measureSparsity() says now.
  SrAutopilot(const SrAutopilotOptions& o, double epochPos, double sr, const SparsityMeasure& m);

  // The schedule's target fraction at `epochPos` (for logs and curves).
  double targetAt(double epochPos) const;
  // One controller step: the measurement at `epochPos` with `lr` in effect and
  // `stepsPerEpoch` steps an epoch -> the sr to use from now on (within [srMin, srMax]).
  double update(double epochPos, const SparsityMeasure& m, double lr, double stepsPerEpoch);
  // A validation result (higher is better). Returns true when it caused a back-off;
  // note() then says why. The first call sets the reference unless setReference() did.
  bool observeMetric(double epochPos, double metric);
  void setReference(double metric);

  double sr() const { return m_sr; }
  double lastTarget() const { return m_lastTarget; }
  double lastError() const { return m_lastError; }
  bool holding(double epochPos) const { return epochPos < m_holdUntil; }
  const std::string& note() const { return m_note; }

 private:
  static constexpr double kFloor = 0.25;  // quantiles below kFloor x threshold count as that
  static constexpr double kMaxError = 1.5;  // |error| bound, in log |gamma|

  double ramp(double epochPos) const;  // 0 at engagement .. 1 at lead x byEpoch
  double scheduledQuantile(double epochPos) const;
  double error(double epochPos, const SparsityMeasure& m) const;

  SrAutopilotOptions m_o;
  double m_start;      // epoch position at engagement
  double m_f0;         // fraction at engagement (the reported target's start)
  double m_q0;         // target quantile at engagement (the steered ramp's start)
  double m_logI;       // integral state: log of the push's efficiency
  double m_lrRef = 0;  // the largest lr seen: integration runs on lr / m_lrRef time
  double m_lastError = 0;
  double m_lastPos;
  double m_sr;
  double m_lastTarget;
  double m_reference = 0.0;
  bool m_hasReference = false;
  double m_holdUntil = -1.0;
  double m_holdSr = 0.0;  // sr's ceiling while holding
  double m_prevQ = 0.0, m_prevPos = 0.0, m_rate = 0.0;  // the quantile's fall per step (smoothed)
  std::string m_note;
};

}  // namespace prunelab
