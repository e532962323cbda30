#pragma once
// TrainBridge: the trainer's observer for the GUI. Callbacks arrive on the training
// (worker) thread between batches; they only copy values into buffers under a short lock
// and, when nothing is pending, call `notify` once (which posts a queued signal). The GUI
// thread then take()s everything accumulated - one wake-up per ~40 ms batch, not per
// step, so the event loop and the trainer stay fast (PlotJuggler's pattern).
//
// An optional epoch probe runs on the training thread after each validation and adds
// named values to that epoch (the "accuracy if pruned now" signal).

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "train/train_observer.h"

namespace prunelab::gui {

class TrainBridge : public TrainObserver {
 public:
  using Named = std::vector<std::pair<std::string, double>>;
  struct Pending {
    std::vector<StepStats> steps;
    std::vector<EpochStats> epochs;  // taskMetrics include the probe's values
    std::vector<GammaSnapshot> gammas;
    std::vector<std::string> messages;
  };

  explicit TrainBridge(std::function<void()> notify) : m_notify(std::move(notify)) {}

  // Training thread, after each epoch's validation; may be empty.
  std::function<Named(const EpochStats&)> epochProbe;

  void onStep(const StepStats& s) override;
  void onEpoch(const EpochStats& e) override;
  void onGammas(const GammaSnapshot& g) override;
  void onMessage(const std::string& m) override;

  // Any thread (the GUI): everything since the last take().
  Pending take();
  // A new run: drops anything pending and forgets the last step.
  void reset();
  // The last step the trainer finished (for "takes effect at the next step" checks).
  int64_t lastStep() const { return m_lastStep.load(); }

 private:
  template <class F>
  void push(F&& f);

  std::function<void()> m_notify;
  std::mutex m_mutex;
  Pending m_pending;
  bool m_notified = false;
  std::atomic<int64_t> m_lastStep{-1};
};

}  // namespace prunelab::gui
