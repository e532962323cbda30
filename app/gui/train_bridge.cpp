#include "gui/train_bridge.h"

namespace prunelab::gui {

template <class F>
void TrainBridge::push(F&& f) {
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    f(m_pending);
    notify = !m_notified;
    m_notified = true;
  }
  if (notify && m_notify) m_notify();
}

void TrainBridge::onStep(const StepStats& s) {
  push([&](Pending& p) { p.steps.push_back(s); });
  m_lastStep.store(s.step);
}

void TrainBridge::onEpoch(const EpochStats& e) {
  EpochStats copy = e;
  if (epochProbe) {
    for (auto& kv : epochProbe(e)) copy.taskMetrics.push_back(std::move(kv));
  }
  push([&](Pending& p) { p.epochs.push_back(std::move(copy)); });
}

void TrainBridge::onGammas(const GammaSnapshot& g) {
  push([&](Pending& p) { p.gammas.push_back(g); });
}

void TrainBridge::onMessage(const std::string& m) {
  push([&](Pending& p) { p.messages.push_back(m); });
}

void TrainBridge::reset() {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_pending = Pending{};
  m_notified = false;
  m_lastStep.store(-1);
}

TrainBridge::Pending TrainBridge::take() {
  std::lock_guard<std::mutex> lock(m_mutex);
  Pending out = std::move(m_pending);
  m_pending = Pending{};
  m_notified = false;
  return out;
}

}  // namespace prunelab::gui
