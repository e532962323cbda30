#pragma once
// Learning-rate schedules as a multiplier of the base lr, evaluated every step.

#include <string>

namespace prunelab {

struct ScheduleOptions {
  std::string kind = "cosine";  // constant | step | cosine
  double warmupEpochs = 0.0;    // linear warm-up from warmupStart x lr
  double warmupStart = 0.1;
  int stepEvery = 30;           // step: multiply by stepGamma every stepEvery epochs
  double stepGamma = 0.1;
  double finalRatio = 0.0;      // cosine: lr at the end, as a fraction of the base lr
};

// `epochProgress` is the fractional epoch (epoch + batch / batchesPerEpoch), from 0.
// Throws prunelab::Error for an unknown kind.
double lrFactor(const ScheduleOptions& s, double epochProgress, int totalEpochs);

}  // namespace prunelab
