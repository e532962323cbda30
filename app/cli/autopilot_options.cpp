#include "cli/autopilot_options.h"

#include <cstdio>

#include "cli/usage_error.h"

namespace prunelab::cli {

void addAutopilotOptions(CommandLine& cl, SrAutopilotOptions& o) {
  CLI::App& a = cl.app();
  a.add_option("--sparsity-target", o.target,
               "sr autopilot: move sr live so this fraction of BN |gamma| falls below the threshold (0 < F < 1)")
      ->type_name("F");
  a.add_option("--by-epoch", o.byEpoch, "sr autopilot: reach --sparsity-target by the end of this epoch (1..--epochs)")
      ->type_name("E");
  a.add_option("--sparsity-threshold", o.threshold, "sr autopilot: |gamma| below this counts as sparse")
      ->type_name("T")
      ->capture_default_str();
  a.add_option("--sparsity-max-drop", o.metricMargin,
               "sr autopilot: back sr off when the validation metric falls more than this below its value before "
               "training (0 = never)")
      ->type_name("X")
      ->capture_default_str();
}

void checkAutopilotArgs(const CommandLine& cl, const SrAutopilotOptions& o, int epochs) {
  const bool on = cl.has("--sparsity-target");
  for (const char* dependent : {"--by-epoch", "--sparsity-threshold", "--sparsity-max-drop"})
    if (cl.has(dependent) && !on) throw UsageError(dependent, "only applies with --sparsity-target");
  if (!on) return;
  if (!cl.has("--by-epoch")) throw UsageError("--by-epoch", "is required with --sparsity-target");
  try {
    checkAutopilotOptions(o, epochs);
  } catch (const Error& e) {
    throw UsageError(e.subject(), e.reason());
  }
}

void printAutopilotEpoch(const EpochStats& s) {
  if (s.sparseTarget < 0) return;
  std::printf("  sr autopilot: %.1f%% of |gamma| < %g (target now %.1f%%), sr %.3g\n", 100 * s.sparseFraction,
              s.sparseThreshold, 100 * s.sparseTarget, s.sr);
  std::fflush(stdout);
}

}  // namespace prunelab::cli
