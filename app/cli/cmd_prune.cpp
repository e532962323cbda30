// prunelab-cli prune: dependency-aware structured channel pruning.

#include <ATen/ATen.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/model_options.h"
#include "exec/runtime.h"
#include "io/checkpoint.h"
#include "pruning/pruner.h"
#include "graph/scope_pattern.h"
#include "session/session.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

// "2.5G", "800M", "120000" -> integer.
int64_t parseCount(const std::string& name, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    const std::string suffix = text.substr(used);
    if (suffix == "K" || suffix == "k") v *= 1e3;
    else if (suffix == "M") v *= 1e6;
    else if (suffix == "G") v *= 1e9;
    else if (!suffix.empty()) throw std::invalid_argument(suffix);
    return static_cast<int64_t>(v);
  } catch (const std::exception&) {
    throw Error(name, "expects a count like 18M or 0.5G, got '" + text + "'");
  }
}

std::vector<std::pair<std::string, double>> readRatios(const std::string& path, double& fallback) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw Error(path, std::string("cannot read YAML: ") + e.what());
  }
  // Either a map {layer: ratio} or {default: x, layers: {layer: ratio}}.
  YAML::Node layers = root["layers"] ? root["layers"] : root;
  if (root["default"]) fallback = root["default"].as<double>();
  if (!layers.IsMap()) throw Error(path, "expected a map of layer name (or pattern) to ratio");
  std::vector<std::pair<std::string, double>> r;
  for (const auto& kv : layers) {
    const std::string key = kv.first.as<std::string>();
    if (key == "default" && !root["layers"]) continue;
    try {
      r.emplace_back(key, kv.second.as<double>());
    } catch (const YAML::Exception&) {
      throw Error(path, "ratio of '" + key + "' is not a number");
    }
  }
  return r;
}

}  // namespace

int runPrune(int argc, char** argv) {
  ArgParser p;
  addModelOptions(p);
  p.option("--input", true, "input size CxHxW (default: the model's)")
      .option("--criterion", true, "l1, l2, bn, activation, taylor, reconstruction, random (default l2)")
      .option("--reduction", true, "group reduction: sum, mean, max (default sum)")
      .option("--layer", true, "prune one layer (with --amount)")
      .option("--amount", true, "fraction of --layer's channels to remove")
      .option("--percent", true, "global threshold: fraction (0.4) or percent (40%) of all channels that go "
                                 "(slimming, with bn)")
      .option("--ratios", true, "YAML file: layer name or pattern -> ratio (optional 'default')")
      .option("--target-macs", true, "prune until MACs <= this (e.g. 18M)")
      .option("--target-params", true, "prune until params <= this")
      .option("--steps", true, "iterative schedule: prune in N steps, re-scoring between them (default 1)")
      .option("--round-to", true, "keep a multiple of N channels per layer (default 1)")
      .option("--min-channels", true, "never keep fewer channels per layer (default 1)")
      .option("--normalize", true, "how --percent and --target-* rank channels across layers: none (raw scores), "
                                   "mean (score / its layer group's mean), auto (default: none for --percent, "
                                   "mean for --target-*; the workbench's default too)")
      .option("--protect", true, "keep these scopes' own output channels; their inputs may still shrink "
                                 "(comma-separated patterns; Torch-Pruning's ignored_layers)")
      .option("--pin", true, "keep every channel these scopes read or write (comma-separated patterns)")
      .option("--fold-beta", false, "fold removed channels' constant output into the next layer's bias "
                                    "where exact (Linear, unpadded convs); padded convs are listed, not folded")
      .option("--calib", true, "calibration data for activation/taylor/reconstruction: fashion-mnist, DIR or a YOLO data.yaml")
      .option("--calib-batches", true, "calibration batches (default 4)")
      .option("--calib-batch", true, "calibration batch size (default 32)")
      .option("--seed", true, "seed for random scores and calibration (default 0)")
      .option("--out", true, "pruned model (.plm)")
      .option("--json", false, "print a JSON report")
      .option("--help", false, "show this help");
  p.parse(argc, argv, 2);
  if (p.has("--help")) {
    std::cout << "usage: prunelab-cli prune --model NAME|PATH --criterion C (--layer L --amount A | --percent P | "
                 "--ratios F.yaml | --target-macs X) --out FILE [options]\n\n"
              << p.help();
    return 0;
  }
  configureThreads(static_cast<int>(p.getInt("--threads", 0)));
  Session session;
  session.loadModel(modelRequest(p));
  const Graph& g = session.model();
  PruneRequest r;
  r.inputShape = p.has("--input") ? parseShape(p.get("--input")) : defaultInputShape(g);
  r.importance.criterion = parseCriterion(p.get("--criterion", "l2"));
  r.importance.reduction = parseReduction(p.get("--reduction", "sum"));
  r.importance.seed = static_cast<uint64_t>(p.getInt("--seed", 0));
  r.steps = static_cast<int>(p.getInt("--steps", 1));
  r.constraints.roundTo = p.getInt("--round-to", 1);
  r.constraints.minChannels = p.getInt("--min-channels", 1);
  r.constraints.normalize = parseNormalization(p.get("--normalize", "auto"));
  r.protectedScopes = splitPatterns(p.get("--protect"));
  r.pinnedScopes = splitPatterns(p.get("--pin"));
  r.surgery.foldBeta = p.has("--fold-beta");
  const int modes = p.has("--layer") + p.has("--percent") + p.has("--ratios") + p.has("--target-macs") +
                    p.has("--target-params");
  if (modes != 1) throw Error("prune", "choose exactly one of --layer/--amount, --percent, --ratios, --target-macs, --target-params");
  if (p.has("--layer")) {
    r.mode = PruneRequest::Mode::LayerAmount;
    r.layer = p.get("--layer");
    if (!p.has("--amount")) throw Error("--amount", "is required with --layer");
    r.amount = p.getDouble("--amount", 0.0);
  } else if (p.has("--percent")) {
    r.mode = PruneRequest::Mode::GlobalPercent;
    // A fraction (0.5) or a percent with its sign (50%); a bare 50 or 1 is ambiguous.
    std::string text = p.get("--percent");
    const bool percentSign = !text.empty() && text.back() == '%';
    if (percentSign) text.pop_back();
    try {
      size_t used = 0;
      r.amount = std::stod(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      throw Error("--percent", "expects a fraction like 0.4 or a percent like 40%, got '" + p.get("--percent") + "'");
    }
    if (percentSign) r.amount /= 100.0;
    else if (r.amount >= 1.0)
      throw Error("--percent", "expects a fraction in (0, 1) such as 0.4, or a percent with its sign such as 40%; got " +
                                   p.get("--percent"));
  } else if (p.has("--ratios")) {
    r.mode = PruneRequest::Mode::Ratios;
    r.ratios = readRatios(p.get("--ratios"), r.fallbackRatio);
  } else if (p.has("--target-macs")) {
    r.mode = PruneRequest::Mode::TargetMacs;
    r.target = parseCount("--target-macs", p.get("--target-macs"));
  } else {
    r.mode = PruneRequest::Mode::TargetParams;
    r.target = parseCount("--target-params", p.get("--target-params"));
  }
  if (needsCalibration(r.importance.criterion)) {
    if (p.has("--calib")) {
      DataSpec calib;
      calib.spec = p.get("--calib");
      session.openData(calib);
    }
    CalibrationOptions co;
    co.batches = p.getInt("--calib-batches", co.batches);
    co.batchSize = p.getInt("--calib-batch", co.batchSize);
    co.seed = static_cast<uint64_t>(p.getInt("--seed", 0));
    session.calibrate(r.importance, co, r.inputShape);
  }

  Graph before = g.clone();
  inferShapes(before, r.inputShape);
  const GraphCost c0 = computeCost(before);
  const PruneOutcome out = session.prune(r, "pruned");
  const GraphCost c1 = computeCost(out.graph);
  const std::string outPath = p.require("--out");
  Checkpoint ck;
  ck.graph = out.graph;
  nlohmann::json log = nlohmann::json::array();
  for (const auto& e : out.log) log.push_back({{"source", e.source}, {"channels", e.channels}});
  ck.info["surgery_log"] = log.dump();
  ck.info["pruned_from"] = p.get("--model");
  saveCheckpoint(outPath, ck);

  if (p.has("--json")) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : out.layers) layers.push_back({{"name", l.name}, {"before", l.before}, {"after", l.after}});
    nlohmann::json j = {{"params_before", c0.params}, {"params_after", c1.params},
                        {"macs_before", c0.macs},     {"macs_after", c1.macs},
                        {"size_mb_before", c0.sizeBytes / 1e6}, {"size_mb_after", c1.sizeBytes / 1e6},
                        {"criterion", criterionName(r.importance.criterion)},
                        {"normalize", normalizationName(r.constraints.normalize)},
                        {"layers", layers},           {"out", outPath}};
    if (out.highestSafePercent >= 0) j["highest_safe_percent"] = out.highestSafePercent;
    if (r.surgery.foldBeta) {
      nlohmann::json skipped = nlohmann::json::array();
      for (const auto& [layer, why] : out.betaFold.skipped) skipped.push_back({{"layer", layer}, {"reason", why}});
      j["beta_fold"] = {{"folded", out.betaFold.folded}, {"skipped", skipped}};
    }
    std::cout << j.dump(1) << "\n";
    return 0;
  }
  std::printf("%-34s %10s %10s\n", "layer", "before", "after");
  for (const auto& l : out.layers)
    std::printf("%-34s %10lld %10lld%s\n", l.name.c_str(), static_cast<long long>(l.before),
                static_cast<long long>(l.after), l.after < l.before ? "  *" : "");
  if (r.surgery.foldBeta) {
    std::printf("\nbeta folded into %zu layer(s)", out.betaFold.folded.size());
    if (!out.betaFold.skipped.empty()) std::printf("; not folded (inexact) into %zu:", out.betaFold.skipped.size());
    std::printf("\n");
    for (const auto& [layer, why] : out.betaFold.skipped) std::printf("  %-32s %s\n", layer.c_str(), why.c_str());
  }
  if (out.highestSafePercent >= 0)
    std::printf("\nhighest safe percent (no layer loses all channels): %.1f%%\n", 100 * out.highestSafePercent);
  std::printf("\nparams %lld -> %lld (%.1f%%), MACs %.2fM -> %.2fM (%.1f%%), size %.2f MB -> %.2f MB; saved %s\n",
              static_cast<long long>(c0.params), static_cast<long long>(c1.params),
              100.0 * double(c1.params) / double(c0.params), c0.macs / 1e6, c1.macs / 1e6,
              100.0 * double(c1.macs) / double(c0.macs), c0.sizeBytes / 1e6, c1.sizeBytes / 1e6, outPath.c_str());
  return 0;
}

}  // namespace prunelab::cli
