#pragma once
// One updating line of progress on a terminal: "train epoch 3/10  45%  812 img/s  ETA 0:42".
// Enabled when stdout is a terminal and the command prints text; never with --json. The
// environment variable PRUNELAB_PROGRESS=1 forces it on (for text output), =0 off. Without a terminal the
// commands print one line per epoch (or nothing) as before. Redraws at most 10 times a
// second; finish() clears the line so the next printed line starts clean.
// Thread affinity: the thread that calls update() (the consumer of the batches).

#include <chrono>
#include <cstdint>
#include <string>

namespace prunelab::cli {

class ProgressLine {
 public:
  // `quiet`: the command prints JSON (or nothing) on stdout; no progress then.
  explicit ProgressLine(bool quiet);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return m_enabled; }
  // A new phase ("train epoch 3/10", "eval", "calibration"): rates and ETA restart.
  void start(const std::string& label);
  // `done` of `total` units finished, `samples` images in the last unit.
  void update(int64_t done, int64_t total, int64_t samples);
  // Clears the line (a no-op when nothing is shown).
  void finish();

  // The text of one redraw; public for tests.
  static std::string format(const std::string& label, double fraction, double imagesPerSec, double etaSeconds);

 private:
  using Clock = std::chrono::steady_clock;
  bool m_enabled = false;
  bool m_shown = false;
  std::string m_label;
  Clock::time_point m_start, m_lastDraw, m_rateStart;
  int64_t m_samples = 0;     // images since the first unit (the rate's numerator)
  int64_t m_firstDone = -1;  // units done at the first update (-1: none yet)
};

}  // namespace prunelab::cli
