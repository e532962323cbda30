// prunelab-cli sensitivity: prune one layer group at a time at each ratio and measure the
// validation metric, params, MACs and latency; `prune
// --from-sensitivity` plans from the table it writes.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/model_options.h"
#include "cli/number_text.h"
#include "cli/progress_line.h"
#include "exec/runtime.h"
#include "pruning/sensitivity.h"
#include "session/session.h"
#include "util/error.h"

namespace prunelab::cli {

namespace {

std::vector<double> parseRatios(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(parseFraction("--ratios", item));
  if (out.empty()) throw Error("--ratios", "needs at least one ratio, e.g. 0.1,0.3,0.5");
  return out;
}

// A text heat map: metric drop (baseline - metric) in points per group and ratio.
void printHeatMap(const SensitivityTable& t, const std::string& outPath) {
  std::printf("%s of the unpruned model: %.4f on %lld validation images; drop per cut (x100):\n", t.metric.c_str(),
              t.baseline, static_cast<long long>(t.valImages));
  std::printf("%-32s %8s", "group", "channels");
  for (double r : t.ratios) std::printf(" %7.0f%%", 100 * r);
  std::printf("\n");
  bool extrapolated = false;
  for (const SensitivityRow& row : t.rows) {
    std::printf("%-32s %8lld", row.group.c_str(), static_cast<long long>(row.channels));
    for (const SensitivityCell& c : row.cells) {
      std::printf(" %7.2f%c", 100 * (t.baseline - c.metric), c.measured ? ' ' : '*');
      extrapolated = extrapolated || !c.measured;
    }
    std::printf("\n");
  }
  if (extrapolated) std::printf("* not measured: a lower ratio had already collapsed the metric (--stop-below)\n");
  std::printf("\n%zu groups x %zu ratios in %.1f s (%s); saved %s\n", t.rows.size(), t.ratios.size(), t.seconds,
              t.method.c_str(), outPath.c_str());
}

}  // namespace

int runSensitivity(int argc, char** argv) {
  CommandLine cl("sensitivity", "--model NAME|PATH --data fashion-mnist|DIR|data.yaml --out s.json [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  DataArgs data;
  addDataOptions(cl, data);
  SensitivityOptions so;
  std::string ratios = "0.1,0.3,0.5,0.7,0.9", criterion = criterionName(Criterion::L1), outPath;
  std::string method = sensitivityMethodName(so.method);
  int64_t valImages = 1000;
  bool noLatency = false;
  CLI::App& a = cl.app();
  a.add_option("--ratios", ratios, "comma-separated fractions of each group's channels to remove")
      ->type_name("LIST")
      ->capture_default_str();
  a.add_option("--criterion", criterion, "which channels each cut removes: l1, l2, bn, activation, taylor, "
                                         "reconstruction, random")
      ->type_name("C")
      ->capture_default_str();
  a.add_option("--val-images", valImages, "validation images each cut is evaluated on (0: all)")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--round-to", so.constraints.roundTo, "keep a multiple of N channels per layer")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--min-channels", so.constraints.minChannels, "never keep fewer channels per layer")
      ->type_name("N")
      ->capture_default_str();
  a.add_option("--method", method, "how each cut is evaluated: mask (zeroes the weights that read the cut channels "
                                   "on one model) or surgery (builds each narrowed model); the same metrics")
      ->type_name("M")
      ->capture_default_str();
  a.add_option("--stop-below", so.stopBelow, "stop a group's ratios once a cut scores at chance or below F x the "
                                             "unpruned metric; later cells repeat it, marked (0: measure every cell)")
      ->type_name("F")
      ->capture_default_str();
  std::string groups;
  a.add_option("--groups", groups, "comma-separated group keys to sweep (as the table names them; default: all)")
      ->type_name("LIST");
  a.add_flag("--no-latency", noLatency, "skip measuring each cut's batch-1 latency");
  a.add_option("--out", outPath, "the table (JSON), for prune --from-sensitivity and the workbench")
      ->type_name("FILE")
      ->required();
  a.add_flag("--json", "print the table as JSON instead of a text heat map");
  if (!cl.parse(argc, argv)) return 0;
  if (valImages < 0) throw Error("--val-images", "must be >= 0");
  configureThreads(model.threads);
  so.ratios = parseRatios(ratios);
  so.importance.criterion = parseCriterion(criterion);
  so.latency = !noLatency;
  so.method = parseSensitivityMethod(method);
  std::stringstream groupList(groups);
  for (std::string key; std::getline(groupList, key, ',');)
    if (!key.empty()) so.groups.push_back(key);
  if (!(so.stopBelow >= 0.0 && so.stopBelow < 1.0)) throw Error("--stop-below", "must be in [0, 1)");
  // Detection data is evaluated as opened: limit it there (classification is limited either way).
  if (!cl.has("--val-limit")) data.spec.valLimit = valImages;
  Session session;
  session.openData(data.spec);
  printDataReport(session.data());
  session.loadModelForData(model.request);
  printLoadWarnings(session.lastLoadReport());
  ProgressLine progress(cl.has("--json"));
  progress.start("sensitivity");
  SensitivityTable t = session.sweepSensitivity(so, valImages, data.task, [&](int done, int total, const std::string&, double) {
    progress.update(done, total, 0);
    return true;
  });
  progress.finish();
  t.model = model.request.model;
  writeSensitivityJson(t, outPath);

  if (cl.has("--json")) {
    std::cout << nlohmann::json::parse(std::ifstream(outPath)).dump(1) << "\n";
    return 0;
  }
  printHeatMap(t, outPath);
  return 0;
}

}  // namespace prunelab::cli
