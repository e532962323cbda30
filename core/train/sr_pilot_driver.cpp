#include "train/sr_pilot_driver.h"

#include <cstdio>

#include "train/sparsity.h"

namespace prunelab {

namespace {

std::string num(double v, const char* fmt = "%.3g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

SrPilotDriver::SrPilotDriver(const SrAutopilotOptions& options, std::shared_ptr<TrainControl> control,
                             const Graph& graph, std::vector<NodeId> targets, Message message)
    : m_o(options), m_control(std::move(control)), m_graph(graph), m_targets(std::move(targets)),
      m_message(std::move(message)) {}

SparsityMeasure SrPilotDriver::measure() const {
  return measureSparsity(absGammas(m_graph, m_targets), m_o.threshold, m_o.enabled() ? m_o.target : 0.5);
}

void SrPilotDriver::setReference(double metric) {
  m_reference = metric;
  m_hasReference = true;
  if (m_pilot) m_pilot->setReference(metric);
}

void SrPilotDriver::engage(double epochPos, const std::string& why) {
  const SparsityMeasure m = measure();
  m_pilot = std::make_unique<SrAutopilot>(m_o, epochPos, m_control->sr.load(), m);
  if (m_hasReference) m_pilot->setReference(m_reference);
  m_written = m_control->sr.load();
  m_message("sr autopilot " + why + ": " + num(100 * m.fraction, "%.1f") + "% of |gamma| < " + num(m_o.threshold) +
            " now, target " + num(100 * m_o.target, "%.1f") + "% by epoch " + std::to_string(m_o.byEpoch) +
            ", sr from " + num(m_pilot->sr()));
}

void SrPilotDriver::disengage(const std::string& why) {
  m_pilot.reset();
  m_control->autopilot.store(false);
  m_message("sr autopilot off: " + why);
}

bool SrPilotDriver::write(double sr) {
  double expected = m_written;
  if (!m_control->sr.compare_exchange_strong(expected, sr)) return false;
  m_written = sr;
  return true;
}

void SrPilotDriver::beforeStep(int64_t globalStep, double epochPos, double lr, double stepsPerEpoch, StepStats& step) {
  if (!enabled()) return;
  if (m_pilot && !m_control->autopilot.load()) disengage("turned off; sr stays at " + num(m_control->sr.load()));
  if (m_pilot && m_control->sr.load() != m_written)
    disengage("sr was set by hand to " + num(m_control->sr.load()) + " before step " + std::to_string(globalStep + 1) +
              "; the run keeps that value");
  // Read again: a disengagement above cleared it.
  if (!m_pilot && m_control->autopilot.load()) engage(epochPos, globalStep == 0 ? "on" : "engaged");
  if (!m_pilot || globalStep % m_o.everySteps != 0) return;
  const SparsityMeasure m = measure();
  const double sr = m_pilot->update(epochPos, m, lr, stepsPerEpoch);
  if (!write(sr)) {
    disengage("sr was set by hand to " + num(m_control->sr.load()) + " at step " + std::to_string(globalStep + 1) +
              "; the run keeps that value");
    return;
  }
  step.sparseFraction = m.fraction;
  step.sparseTarget = m_pilot->lastTarget();
  m_trace.add({globalStep, epochPos, lr, sr, m.fraction, m_pilot->lastTarget(), m.quantile});
}

void SrPilotDriver::endEpoch(EpochStats& es, double epochPos) {
  const SparsityMeasure m = measure();
  es.sparseFraction = m.fraction;
  es.sparseThreshold = m_o.threshold;
  if (!enabled()) return;
  m_trace.flush();  // the rows so far, even when the pilot was turned off in this epoch
  if (!m_pilot) return;
  es.sparseTarget = m_pilot->targetAt(epochPos);
  if (es.validated && m_pilot->observeMetric(epochPos, es.fitness)) {
    if (write(m_pilot->sr()))
      m_message("sr autopilot: " + m_pilot->note());
    else
      disengage("sr was set by hand to " + num(m_control->sr.load()) + "; the run keeps that value");
  }
  if (!m_reported && es.epoch + 1 >= m_o.byEpoch) {
    m_reported = true;
    m_message("sr autopilot: " + num(100 * m.fraction, "%.1f") + "% of |gamma| < " + num(m_o.threshold) +
              " after epoch " + std::to_string(es.epoch + 1) + " (target " + num(100 * m_o.target, "%.1f") + "%)");
  }
}

}  // namespace prunelab
