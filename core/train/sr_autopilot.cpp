#include "train/sr_autopilot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "util/error.h"

namespace prunelab {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void checkAutopilotOptions(const SrAutopilotOptions& o, int epochs) {
  if (!std::isfinite(o.target) || o.target <= 0.0 || o.target >= 1.0)
    throw Error("--sparsity-target", "must be a fraction strictly between 0 and 1, got " + num(o.target));
  if (o.byEpoch < 1 || o.byEpoch > epochs)
    throw Error("--by-epoch", "must be between 1 and --epochs (" + std::to_string(epochs) + "), got " +
                                  std::to_string(o.byEpoch));
  if (!std::isfinite(o.threshold) || o.threshold <= 0.0)
    throw Error("--sparsity-threshold", "must be a positive |gamma|, got " + num(o.threshold));
  if (!std::isfinite(o.metricMargin))
    throw Error("--sparsity-max-drop", "must be a number (<= 0 turns the guard off), got " + num(o.metricMargin));
  if (o.everySteps < 1 || !(o.srMin > 0) || !(o.srMax > o.srMin) || !(o.lead > 0 && o.lead <= 1) ||
      !(o.horizon > 0) || !(o.efficiency > 0))
    throw Error("sr autopilot", "internal limits out of range");
}

SparsityMeasure measureSparsity(std::vector<float> absGammas, double threshold, double target) {
  SparsityMeasure m;
  if (absGammas.empty()) return m;
  const size_t n = absGammas.size();
  int64_t below = 0;
  for (float v : absGammas) below += std::fabs(v) < threshold;
  m.fraction = double(below) / double(n);
  // The smallest value v with at least target x n gammas <= v: below the threshold exactly
  // when the fraction reaches the target.
  const size_t rank = static_cast<size_t>(std::ceil(std::clamp(target, 0.0, 1.0) * double(n)));
  const size_t k = std::min(n - 1, rank > 0 ? rank - 1 : 0);
  std::nth_element(absGammas.begin(), absGammas.begin() + static_cast<std::ptrdiff_t>(k), absGammas.end(),
                   [](float a, float b) { return std::fabs(a) < std::fabs(b); });
  m.quantile = std::fabs(absGammas[k]);
  return m;
}

SrAutopilot::SrAutopilot(const SrAutopilotOptions& o, double epochPos, double sr, const SparsityMeasure& m)
    : m_o(o), m_start(epochPos), m_f0(m.fraction), m_q0(std::max(m.quantile, o.threshold * m_o.aim)),
      m_lastPos(epochPos) {
  m_sr = std::clamp(sr > 0 ? sr : o.srStart, o.srMin, o.srMax);
  m_logI = std::log(o.efficiency);
  m_prevPos = epochPos;
  m_lastTarget = targetAt(epochPos);
}

double SrAutopilot::ramp(double epochPos) const {
  const double span = m_o.lead * m_o.byEpoch - m_start;
  if (span <= 0) return 1.0;  // engaged after the ramp's end: straight to the target
  return std::clamp((epochPos - m_start) / span, 0.0, 1.0);
}

double SrAutopilot::targetAt(double epochPos) const {
  if (m_f0 >= m_o.target) return m_o.target;  // already there: hold it
  return m_f0 + (m_o.target - m_f0) * ramp(epochPos);
}

double SrAutopilot::scheduledQuantile(double epochPos) const {
  const double aim = std::log(m_o.threshold * m_o.aim);
  return std::exp(std::log(m_q0) + (aim - std::log(m_q0)) * ramp(epochPos));
}

double SrAutopilot::error(double epochPos, const SparsityMeasure& m) const {
  // In log |gamma|: how far the target quantile is above where the schedule wants it now.
  const double want = std::log(scheduledQuantile(epochPos));
  const double have = std::log(std::max(m.quantile, m_o.threshold * kFloor));
  return std::clamp(have - want, -kMaxError, kMaxError);
}

double SrAutopilot::update(double epochPos, const SparsityMeasure& m, double lr, double stepsPerEpoch) {
  lr = std::max(lr, 1e-12);
  m_lrRef = std::max(m_lrRef, lr);
  const double dt = std::max(0.0, epochPos - m_lastPos) * lr / m_lrRef;  // lr-weighted time
  m_lastPos = epochPos;
  m_lastTarget = targetAt(epochPos);
  m_lastError = error(epochPos, m);
  double e = m_lastError;
  if (holding(epochPos)) e = std::min(e, 0.0);
  // Where the quantile should be one horizon from now, and the push per step that takes
  // it there at the lr in effect: a proportional law on the gap, for a plant that
  // integrates sr (each step moves the gammas by ~lr x sr / (1 - momentum)).
  const double q = std::max(m.quantile, m_o.threshold * kFloor);
  // Momentum keeps pushing for ~lagSteps after sr drops: the quantile's recent fall, carried
  // on for that long, is already on its way (a derivative term; without it the push overshoots).
  const double elapsedSteps = std::max(0.0, epochPos - m_prevPos) * stepsPerEpoch;
  if (m_prevQ > 0 && elapsedSteps > 0) m_rate = 0.5 * m_rate + 0.5 * (q - m_prevQ) / elapsedSteps;
  m_prevQ = q;
  m_prevPos = epochPos;
  const double inFlight = std::min(0.0, m_rate) * m_o.lagSteps;
  const double gap = std::max(0.0, q + inFlight - scheduledQuantile(epochPos + m_o.horizon));
  const double steps = std::max(2.0 * m_o.lagSteps, m_o.horizon * stepsPerEpoch);
  const double needed = gap / (steps * lr);  // sr for a perfectly efficient push
  // The push's efficiency (momentum, the task pulling back) is learnt: the integral of the
  // log error raises it while the quantile lags the schedule and lowers it once ahead.
  m_logI += m_o.ki * e * dt;
  double sr = std::exp(m_logI) * needed;
  if (sr > m_o.srMax && e > 0) m_logI -= m_o.ki * e * dt;  // saturated: no wind-up
  if (holding(epochPos)) sr = std::min(sr, m_holdSr);
  m_sr = std::clamp(sr, m_o.srMin, m_o.srMax);
  return m_sr;
}

void SrAutopilot::setReference(double metric) {
  m_reference = metric;
  m_hasReference = true;
}

bool SrAutopilot::observeMetric(double epochPos, double metric) {
  m_note.clear();
  if (!m_hasReference) {
    setReference(metric);
    return false;
  }
  if (m_o.metricMargin <= 0 || metric >= m_reference - m_o.metricMargin) return false;
  m_logI += std::log(m_o.backoff);
  m_sr = std::clamp(m_sr * m_o.backoff, m_o.srMin, m_o.srMax);
  m_holdSr = m_sr;
  m_holdUntil = epochPos + m_o.holdEpochs;
  m_note = "validation metric " + num(metric) + " fell more than " + num(m_o.metricMargin) + " below " +
           num(m_reference) + ": sr backed off to " + num(m_sr) + " and held for " + num(m_o.holdEpochs) +
           " epoch(s); the target may be reached late";
  return true;
}

}  // namespace prunelab
