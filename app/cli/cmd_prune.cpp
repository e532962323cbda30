// prunelab-cli prune: dependency-aware structured channel pruning.

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/model_options.h"
#include "cli/number_text.h"
#include "cli/prune_iterative.h"
#include "cli/progress_line.h"
#include "cli/ratio_file.h"
#include "cli/usage_error.h"
#include "exec/runtime.h"
#include "io/checkpoint.h"
#include "models/yolo/yolo_yaml_widths.h"
#include "pruning/latency_target.h"
#include "pruning/pruner.h"
#include "graph/scope_pattern.h"
#include "session/latency_command.h"
#include "session/session.h"
#include "util/error.h"
#include "util/parse_number.h"

namespace prunelab::cli {

namespace {

// The name --reduction takes for `r` (the inverse of parseReduction), for --help.
std::string reductionName(GroupReduction r) {
  switch (r) {
    case GroupReduction::Sum: return "sum";
    case GroupReduction::Mean: return "mean";
    case GroupReduction::Max: return "max";
  }
  return "sum";
}

// --target-latency: "12.5" or "12.5ms" (milliseconds), or "60%" of the measured latency
// (resolved once the latency table is there).
struct LatencyTarget {
  double value = 0;
  bool percent = false;
  double ms(double measuredMs) const { return percent ? value / 100.0 * measuredMs : value; }
};

LatencyTarget parseLatencyTarget(const std::string& text) {
  LatencyTarget t;
  std::string number = text;
  t.percent = !number.empty() && number.back() == '%';
  if (t.percent) number.pop_back();
  if (!t.percent && number.size() > 2 && number.compare(number.size() - 2, 2, "ms") == 0) number.resize(number.size() - 2);
  const std::optional<double> v = parseNumber(number);
  if (!v) throw UsageError("--target-latency", "expects milliseconds like 12.5 or a percent like 60%, got '" + text + "'");
  if (!std::isfinite(*v) || *v <= 0 || (t.percent && *v >= 100))
    throw Error("--target-latency", "must be positive (a percent below 100), got " + text);
  t.value = *v;
  return t;
}

}  // namespace

// Layers the plan left at the fewest channels it may keep: a cut that deep usually costs
// more accuracy than the rest of the plan together, and the user did not ask for it by name.
void printFloorWarning(const std::vector<LayerChannels>& layers, const PlanConstraints& c) {
  const int64_t floor = std::max<int64_t>(1, c.minChannels);
  std::string names;
  int count = 0;
  for (const auto& l : layers)
    if (l.after <= floor && l.before > l.after) names += (count++ ? ", " : "") + l.name;
  if (count)
    std::fprintf(stderr, "warning: %d layer(s) pruned to the channel floor (%lld): %s (raise --min-channels, or "
                 "lower the percent)\n", count, static_cast<long long>(floor), names.c_str());
}

namespace {

// Everything prune reads from its command line. The request's own defaults (PruneRequest,
// PlanConstraints, ImportanceOptions, CalibrationOptions) are the ones --help shows.
struct PruneArgs {
  PruneRequest r;
  CalibrationOptions co;
  std::string input, criterion = criterionName(r.importance.criterion), reduction = reductionName(r.importance.reduction);
  std::string percent, ratios, targetMacs, targetParams, protect, pin, calib, outPath, normalize = "auto";
  std::string fromSensitivity, targetLatency, latencyTablePath, roundTo = std::to_string(r.constraints.roundTo);
  LatencyCommand latencyCmd;
};

std::string criterionList() {
  std::string s;
  for (const std::string& c : criterionMenu()) s += (s.empty() ? "" : ", ") + c;
  return s;
}

// --latency-cmd: --target-latency measured on the deploy target instead of by the executor.
void addLatencyCommandOptions(CLI::App& a, PruneArgs& p) {
  a.add_option("--latency-cmd", p.latencyCmd.command,
               "with --target-latency: a command that prints the latency in ms of an ONNX file on the deploy "
               "target, {onnx} standing for the file (each candidate exported BN-folded at batch 1); it measures "
               "the search's models and the table's whole-model figures instead of the executor")
      ->type_name("CMD");
  a.add_option("--latency-timeout", p.latencyCmd.timeoutSeconds, "seconds one run of --latency-cmd may take")
      ->type_name("S")
      ->capture_default_str();
}

// How much to cut: one of --layer/--amount, --percent, --ratios, --target-*.
void addAmountOptions(CLI::App& a, PruneArgs& p) {
  a.add_option("--layer", p.r.layer, "prune one layer (with --amount)")->type_name("NAME");
  a.add_option("--amount", p.r.amount, "fraction of --layer's channels to remove")->type_name("X");
  a.add_option("--percent", p.percent,
               "global threshold: fraction (0.4) or percent (40%) of all channels that go (slimming, with bn)")
      ->type_name("P");
  a.add_option("--ratios", p.ratios, "YAML file: layer name or pattern -> ratio (optional 'default')")->type_name("FILE");
  a.add_option("--target-macs", p.targetMacs, "prune until MACs <= this (e.g. 18M)")->type_name("COUNT");
  a.add_option("--target-params", p.targetParams, "prune until params <= this")->type_name("COUNT");
  a.add_option("--from-sensitivity", p.fromSensitivity,
               "with --target-macs: choose per-layer ratios from a `prunelab-cli sensitivity` table, the least "
               "predicted metric drop per MAC saved first (the criterion defaults to the table's)")
      ->type_name("FILE");
  a.add_option("--steps", p.r.steps,
               "iterative schedule: prune in N steps, re-scoring between them (with --fine-tune-epochs, training too)")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--target-latency", p.targetLatency,
               "prune until the batch-1 latency (the executor's on this machine, or --latency-cmd's) is this: "
               "milliseconds (12.5) or a percent of the unpruned model's (60%, re-measured beside every candidate); "
               "plans from a per-layer latency table, then corrects by measuring")
      ->type_name("MS|P%");
  a.add_option("--latency-table", p.latencyTablePath,
               "latency table for --target-latency / --round-to auto: read when the file exists, else measured "
               "and written there (prunelab-cli latency-table)")
      ->type_name("FILE");
  addLatencyCommandOptions(a, p);
}

// What every plan must respect, whatever chose it.
void addConstraintOptions(CLI::App& a, PruneArgs& p) {
  a.add_option("--round-to", p.roundTo,
               "keep a multiple of N channels per layer; auto: where this machine's measured latency steps")
      ->type_name("N|auto")
      ->capture_default_str();
  a.add_option("--min-channels", p.r.constraints.minChannels, "never keep fewer channels per layer")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--normalize", p.normalize,
               "how --percent and --target-* rank channels across layers: none (raw scores), mean (score / its "
               "layer group's mean), auto (none for --percent with bn or random, whose scores compare across "
               "layers; mean otherwise and for --target-*; the workbench's default too)")
      ->type_name("MODE")
      ->capture_default_str();
  a.add_option("--protect", p.protect,
               "keep these scopes' own output channels; their inputs may still shrink "
               "(comma-separated patterns; Torch-Pruning's ignored_layers)")
      ->type_name("PATTERNS");
  a.add_option("--pin", p.pin, "keep every channel these scopes read or write (comma-separated patterns)")
      ->type_name("PATTERNS");
  a.add_flag("--yaml-widths",
             "keep to widths the model's YOLO YAML can state (module outputs in multiples of 8, hidden widths "
             "as their e implies), so that yolov5's train.py --weights and ultralytics' trainer, which rebuild "
             "the model from its yaml, load every pruned tensor");
}

// After the cut: β folding and least-squares refits; calibration data for both and for
// the data criteria.
void addRefitOptions(CLI::App& a, PruneArgs& p) {
  a.add_flag("--fold-beta", p.r.surgery.foldBeta,
             "fold removed channels' constant output into the next layer's bias "
             "where exact (Linear, unpadded convs); padded convs are listed, not folded");
  a.add_flag("--reconstruct", p.r.reconstruct,
             "after the cut, refit every conv/linear that lost inputs by least squares so that its output "
             "matches the unpruned model's on the calibration data (He et al. 2017)");
  a.add_option("--reconstruct-samples", p.r.reconstruction.samples,
               "output positions sampled per refitted layer (0: max(4096, 4 x its inputs))")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--reconstruct-ridge", p.r.reconstruction.ridge, "ridge term, relative to the mean input energy")
      ->type_name("X")
      ->capture_default_str();
  a.add_option("--calib", p.calib,
               "calibration data for activation/taylor/reconstruction and --reconstruct: fashion-mnist, DIR or a YOLO "
               "data.yaml")
      ->type_name("SPEC")
      ->default_str("random inputs");
  a.add_option("--calib-batches", p.co.batches, "calibration batches")->type_name("N")->capture_default_str();
  a.add_option("--calib-batch", p.co.batchSize, "calibration batch size")->type_name("N")->capture_default_str();
  a.add_option("--seed", p.r.importance.seed, "seed for random scores and calibration")
      ->type_name("N")
      ->capture_default_str();
}

// Criterion, reduction, normalisation and scopes from the arguments.
void readScoring(const CommandLine& cl, PruneArgs& p) {
  PruneRequest& r = p.r;
  r.importance.criterion = parseCriterion(p.criterion);
  if (!p.fromSensitivity.empty()) {
    if (!cl.has("--target-macs")) throw Error("--from-sensitivity", "needs --target-macs");
    r.sensitivity = std::make_shared<const SensitivityTable>(readSensitivityJson(p.fromSensitivity));
    // The table predicts the drop of cuts made by its own criterion.
    if (!cl.has("--criterion")) r.importance.criterion = parseCriterion(r.sensitivity->criterion);
  }
  r.importance.reduction = parseReduction(p.reduction);
  r.constraints.normalize = parseNormalization(p.normalize);
  r.protectedScopes = splitPatterns(p.protect);
  r.pinnedScopes = splitPatterns(p.pin);
}

// The latency table, when a latency is asked for: measured on the model as loaded, with
// the same protected and pinned scopes as the plan (they decide what can shrink).
void attachLatencyTable(const CommandLine& cl, PruneArgs& p, const Session& session, const std::string& modelName) {
  PruneRequest& r = p.r;
  if (!cl.has("--target-latency") && p.roundTo != "auto") {
    if (cl.has("--latency-table")) throw Error("--latency-table", "is used by --target-latency or --round-to auto");
    if (cl.has("--latency-cmd")) throw Error("--latency-cmd", "is used by --target-latency or --round-to auto");
    return;
  }
  LatencyTableRequest lr;
  lr.input = r.inputShape;
  lr.name = modelName;
  lr.file = p.latencyTablePath;
  lr.scopes.protectedScopes = r.protectedScopes;
  lr.scopes.pinnedScopes = r.pinnedScopes;
  if (cl.has("--latency-cmd")) lr.command = p.latencyCmd;
  ProgressLine progress(cl.has("--json"));
  progress.start("latency table");
  lr.progress = [&progress](int done, int total, const std::string&) { progress.update(done, total, 0); };
  r.latency = std::make_shared<const LatencyTable>(session.latencyTable(lr));
  progress.finish();
}

// Exactly one way of choosing the amount, read into the request.
void readMode(const CommandLine& cl, PruneArgs& p) {
  PruneRequest& r = p.r;
  const int modes = cl.has("--layer") + cl.has("--percent") + cl.has("--ratios") + cl.has("--target-macs") +
                    cl.has("--target-params") + cl.has("--target-latency");
  if (modes != 1)
    throw Error("prune", "choose exactly one of --layer/--amount, --percent, --ratios, --target-macs, --target-params, "
                         "--target-latency");
  if (cl.has("--layer")) {
    r.mode = PruneRequest::Mode::LayerAmount;
    if (!cl.has("--amount")) throw Error("--amount", "is required with --layer");
  } else if (cl.has("--percent")) {
    r.mode = PruneRequest::Mode::GlobalPercent;
    r.amount = parseFraction("--percent", p.percent);  // 0.4 or 40%; a bare 40 is ambiguous
  } else if (cl.has("--ratios")) {
    r.mode = PruneRequest::Mode::Ratios;
    r.ratios = readRatios(p.ratios, r.fallbackRatio);
    r.ratiosFile = p.ratios;
  } else if (cl.has("--target-macs")) {
    r.mode = PruneRequest::Mode::TargetMacs;
    r.target = parseCount("--target-macs", p.targetMacs);
  } else if (cl.has("--target-params")) {
    r.mode = PruneRequest::Mode::TargetParams;
    r.target = parseCount("--target-params", p.targetParams);
  } else {
    r.mode = PruneRequest::Mode::TargetLatency;
    r.targetLatencyMs = parseLatencyTarget(p.targetLatency).ms(r.latency->totalMs);
  }
}

// Calibration batches for data criteria and refits (--calib data, else random inputs).
void calibrate(const CommandLine& cl, PruneArgs& p, Session& session) {
  PruneRequest& r = p.r;
  if (!needsCalibration(r.importance.criterion) && !r.reconstruct) return;
  if (cl.has("--calib")) {
    DataSpec spec;
    spec.spec = p.calib;
    session.openData(spec);
    printDataReport(session.data());
  }
  p.co.seed = r.importance.seed;
  ProgressLine progress(cl.has("--json"));
  progress.start("calibration");
  p.co.progress = [&progress](int64_t done, int64_t total, int64_t images) { progress.update(done, total, images); };
  session.calibrate(r.importance, p.co, r.inputShape);
  progress.finish();
}

// --target-latency: find the planner goal whose model measures at the target (by the
// executor, or by --latency-cmd); the session then makes that model once more (planning is
// deterministic) so only it is recorded.
LatencyGoal aimLatency(const CommandLine& cl, const PruneArgs& p, PruneRequest& r, Session& session) {
  LatencyGoal goal;
  if (r.mode != PruneRequest::Mode::TargetLatency) return goal;
  LatencyGoalOptions lo;
  const LatencyTarget target = parseLatencyTarget(p.targetLatency);
  if (target.percent) lo.targetFraction = target.value / 100.0;
  if (cl.has("--latency-cmd")) lo.measure = latencyCommandTimer(p.latencyCmd, r.latency->input, r.latency->batch);
  if (!cl.has("--json"))
    lo.onRound = [](const LatencyRound& round) {
      std::printf("latency round: unpruned %.2f ms, target %.2f ms; planned for %.2f ms (table predicts %.2f%s), "
                  "measured %.2f ms%s, %.2fM MACs\n",
                  round.baselineMs, round.targetMs, round.goalMs, round.predictedMs,
                  round.strongest ? ", the strongest plan" : "", round.measuredMs,
                  round.pairs > 1 ? " (mean of 2 pairs)" : "", round.macs / 1e6);
    };
  goal = aimAtLatency(session.model(), r, lo);
  r.targetLatencyMs = goal.goalMs;
  r.strongestIfUnreachable = true;  // the search measured this goal's model, even at the table's floor
  return goal;
}

nlohmann::json latencyJson(const LatencyGoal& goal, const PruneRequest& r, const PruneOutcome& out) {
  nlohmann::json rounds = nlohmann::json::array();
  for (const LatencyRound& x : goal.rounds)
    rounds.push_back({{"goal_ms", x.goalMs}, {"predicted_ms", x.predictedMs}, {"measured_ms", x.measuredMs},
                      {"baseline_ms", x.baselineMs}, {"target_ms", x.targetMs}, {"strongest", x.strongest}, {"pairs", x.pairs},
                      {"macs", x.macs}});
  return {{"target_ms", goal.targetMs}, {"before_ms", goal.baselineMs}, {"table_ms", r.latency->totalMs},
          {"measured_ms", goal.measuredMs}, {"predicted_ms", out.predictedLatencyMs}, {"rounds", rounds}};
}

nlohmann::json refitJson(const PruneRequest& r, const PruneOutcome& out) {
  nlohmann::json j = nlohmann::json::object();  // update() refuses a null one when neither part applies
  if (r.surgery.foldBeta) {
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& [layer, why] : out.betaFold.skipped) skipped.push_back({{"layer", layer}, {"reason", why}});
    j["beta_fold"] = {{"folded", out.betaFold.folded}, {"skipped", skipped}};
  }
  if (r.reconstruct) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& c : out.reconstruction.consumers)
      layers.push_back({{"layer", c.node}, {"applied", c.applied}, {"error_before", c.errorBefore},
                        {"error_after", c.errorAfter}, {"samples", c.samples}, {"columns", c.columns},
                        {"bias", c.biasTarget}, {"note", c.note}});
    j["reconstruction"] = {{"layers", layers}, {"seconds", out.reconstruction.seconds}};
  }
  return j;
}

void printPruneJson(const PruneArgs& p, const PruneOutcome& out, const GraphCost& c0, const GraphCost& c1,
                    const LatencyGoal& goal) {
  const PruneRequest& r = p.r;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : out.layers) layers.push_back({{"name", l.name}, {"before", l.before}, {"after", l.after}});
  nlohmann::json j = {{"params_before", c0.params}, {"params_after", c1.params},
                      {"macs_before", c0.macs},     {"macs_after", c1.macs},
                      {"size_mb_before", c0.sizeBytes / 1e6}, {"size_mb_after", c1.sizeBytes / 1e6},
                      {"criterion", criterionName(r.importance.criterion)},
                      {"normalize", normalizationName(r.constraints.normalize)},
                      {"layers", layers},           {"out", p.outPath}};
  if (out.highestSafePercent >= 0) j["highest_safe_percent"] = out.highestSafePercent;
  if (r.latency) j["round_to"] = r.constraints.roundTo;
  if (r.mode == PruneRequest::Mode::TargetLatency) j["latency"] = latencyJson(goal, r, out);
  j.update(refitJson(r, out));
  printFloorWarning(out.layers, r.constraints);
  std::cout << j.dump(1) << "\n";
}

void printRefits(const PruneRequest& r, const PruneOutcome& out) {
  if (r.surgery.foldBeta) {
    std::printf("\nbeta folded into %zu layer(s)", out.betaFold.folded.size());
    if (!out.betaFold.skipped.empty()) std::printf("; not folded (inexact) into %zu:", out.betaFold.skipped.size());
    std::printf("\n");
    for (const auto& [layer, why] : out.betaFold.skipped) std::printf("  %-32s %s\n", layer.c_str(), why.c_str());
  }
  if (!r.reconstruct) return;
  const auto& rc = out.reconstruction.consumers;
  const auto applied = std::count_if(rc.begin(), rc.end(), [](const ConsumerRefit& c) { return c.applied; });
  std::printf("\nreconstruction: %lld of %zu layer(s) refitted in %.1f s (relative output error on the "
              "calibration samples)\n",
              static_cast<long long>(applied), rc.size(), out.reconstruction.seconds);
  for (const auto& c : rc) {
    if (c.applied)
      std::printf("  %-32s %.4f -> %.4f\n", c.node.c_str(), c.errorBefore, c.errorAfter);
    else
      std::printf("  %-32s kept: %s\n", c.node.c_str(), c.note.c_str());
  }
}

void printPruneText(const PruneArgs& p, const PruneOutcome& out, const GraphCost& c0, const GraphCost& c1,
                    const LatencyGoal& goal) {
  const PruneRequest& r = p.r;
  std::printf("%-34s %10s %10s\n", "layer", "before", "after");
  for (const auto& l : out.layers)
    std::printf("%-34s %10lld %10lld%s\n", l.name.c_str(), static_cast<long long>(l.before),
                static_cast<long long>(l.after), l.after < l.before ? "  *" : "");
  printRefits(r, out);
  if (r.mode == PruneRequest::Mode::TargetLatency)
    std::printf("\nlatency (batch %d, measured): %.2f ms -> %.2f ms, target %.2f ms (%+.1f%%)\n", r.latency->batch,
                goal.baselineMs, goal.measuredMs, goal.targetMs, 100.0 * (goal.measuredMs - goal.targetMs) / goal.targetMs);
  if (out.highestSafePercent >= 0)
    std::printf("\nhighest safe percent (no layer loses all channels): %.1f%%\n", 100 * out.highestSafePercent);
  printFloorWarning(out.layers, r.constraints);
  std::printf("\nparams %lld -> %lld (%.1f%%), MACs %.2fM -> %.2fM (%.1f%%), size %.2f MB -> %.2f MB; saved %s\n",
              static_cast<long long>(c0.params), static_cast<long long>(c1.params),
              100.0 * double(c1.params) / double(c0.params), c0.macs / 1e6, c1.macs / 1e6,
              100.0 * double(c1.macs) / double(c0.macs), c0.sizeBytes / 1e6, c1.sizeBytes / 1e6, p.outPath.c_str());
}

}  // namespace

int runPrune(int argc, char** argv) {
  CommandLine cl("prune", "--model NAME|PATH --criterion C (--layer L --amount A | --percent P | --ratios F.yaml | "
                          "--target-macs X | --target-params X | --target-latency MS) --out FILE [--steps N --fine-tune-epochs E "
                          "--data SPEC --run-dir DIR] [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  PruneArgs p;
  CLI::App& a = cl.app();
  a.add_option("--input", p.input, "input size CxHxW")->type_name("CxHxW")->default_str("the model's");
  a.add_option("--criterion", p.criterion, criterionList())->type_name("C")->capture_default_str();
  a.add_option("--reduction", p.reduction, "group reduction: sum, mean, max")->type_name("R")->capture_default_str();
  addAmountOptions(a, p);
  addConstraintOptions(a, p);
  addRefitOptions(a, p);
  IterativeArgs iterative;
  addIterativeOptions(cl, iterative);
  a.add_option("--out", p.outPath, "pruned model (.plm)")->type_name("FILE")->required();
  a.add_flag("--json", "print a JSON report");
  if (!cl.parse(argc, argv)) return 0;
  checkIterativeArgs(cl, iterative);
  if (!p.r.reconstruct && (cl.has("--reconstruct-samples") || cl.has("--reconstruct-ridge")))
    throw Error("--reconstruct-samples/--reconstruct-ridge", "need --reconstruct");
  configureThreads(model.threads);
  Session session;
  session.loadModel(model.request);
  printLoadWarnings(session.lastLoadReport());
  const Graph& g = session.model();
  PruneRequest& r = p.r;
  r.inputShape = cl.has("--input") ? parseShape(p.input) : defaultInputShape(g);
  readScoring(cl, p);
  attachLatencyTable(cl, p, session, model.request.model);
  r.constraints.roundTo = p.roundTo == "auto" ? r.latency->suggestedRoundTo : parseCount("--round-to", p.roundTo);
  if (cl.has("--yaml-widths")) r.constraints.fitWidths = yoloYamlWidthFit(g);
  readMode(cl, p);
  if (wantsIterative(cl)) return runIterativePrune(cl, r, p.co, p.outPath, iterative, session, model.request.model);
  calibrate(cl, p, session);
  r.reconstruction.seed = r.importance.seed;
  ProgressLine refitProgress(cl.has("--json"));
  if (r.reconstruct) {
    refitProgress.start("reconstruct");
    r.reconstructProgress = [&refitProgress](int done, int total, const std::string&) {
      refitProgress.update(done, total, 0);
    };
  }
  const LatencyGoal goal = aimLatency(cl, p, r, session);
  Graph before = g.clone();
  inferShapes(before, r.inputShape);
  const GraphCost c0 = computeCost(before);
  const PruneOutcome out = session.prune(r, "pruned");
  if (r.reconstruct) refitProgress.finish();
  const GraphCost c1 = computeCost(out.graph);
  Checkpoint ck;
  ck.graph = out.graph.share();
  ck.info["surgery_log"] = surgeryLogJson(out.log);
  ck.info["pruned_from"] = model.request.model;
  saveCheckpoint(p.outPath, ck);
  if (cl.has("--json"))
    printPruneJson(p, out, c0, c1, goal);
  else
    printPruneText(p, out, c0, c1, goal);
  return 0;
}

}  // namespace prunelab::cli
