#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace prunelab {

double lrFactor(const ScheduleOptions& s, double t, int totalEpochs) {
  double f = 1.0;
  if (s.kind == "constant") {
    f = 1.0;
  } else if (s.kind == "step") {
    f = std::pow(s.stepGamma, std::floor(t / std::max(1, s.stepEvery)));
  } else if (s.kind == "cosine") {
    const double span = std::max(1e-9, totalEpochs - s.warmupEpochs);
    const double p = std::clamp((t - s.warmupEpochs) / span, 0.0, 1.0);
    f = s.finalRatio + (1.0 - s.finalRatio) * 0.5 * (1.0 + std::cos(M_PI * p));
  } else {
    throw Error("--schedule", "unknown schedule '" + s.kind + "' (constant, step, cosine)");
  }
  if (s.warmupEpochs > 0 && t < s.warmupEpochs)
    f *= s.warmupStart + (1.0 - s.warmupStart) * (t / s.warmupEpochs);
  return f;
}

}  // namespace prunelab
