// prunelab-cli eval: top-1/top-5 of a classifier or mAP of a detector on the validation
// split. An adapter: the evaluation itself is Session::evaluate (session/evaluation.h).

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/model_options.h"
#include "cli/progress_line.h"
#include "exec/runtime.h"
#include "session/session.h"

namespace prunelab::cli {

namespace {

void printDetectionEval(const EvalReport& r, bool json) {
  const DetectionMetrics& m = r.detect.metrics;
  const std::vector<std::string>& names = r.classNames;
  if (json) {
    nlohmann::json perClass = nlohmann::json::object();
    for (size_t c = 0; c < names.size(); ++c)
      perClass[names[c]] = {{"ap50", m.ap50PerClass[c]}, {"ap50_95", m.apPerClass[c]}, {"instances", m.gtPerClass[c]}};
    const nlohmann::json j = {{"task", "detect"},     {"map50", m.map50},         {"map50_95", m.map50_95},
                              {"precision", m.precision}, {"recall", m.recall}, {"val_loss", r.detect.loss},
                              {"images", r.detect.images}, {"seconds", r.detect.seconds}, {"per_class", perClass},
                              {"bn_gamma_abs_mean", r.gamma.absMean}};
    std::cout << j.dump(1) << "\n";
    return;
  }
  std::printf("%-14s %9s %9s %9s\n", "class", "instances", "AP50", "AP50-95");
  for (size_t c = 0; c < names.size(); ++c)
    std::printf("%-14s %9d %9.4f %9.4f\n", names[c].c_str(), m.gtPerClass[c], m.ap50PerClass[c], m.apPerClass[c]);
  std::printf("%s: mAP50 %.4f  mAP50-95 %.4f  P %.4f  R %.4f  (%lld images, %.1fs)\n", r.split.c_str(), m.map50,
              m.map50_95, m.precision, m.recall, static_cast<long long>(r.detect.images), r.detect.seconds);
}

void printClassificationEval(const EvalReport& r, bool json) {
  const ClassifyMetrics& m = r.classify;
  if (json) {
    const nlohmann::json j = {{"val_top1", m.top1},       {"val_top5", m.top5},
                              {"val_loss", m.loss},       {"count", m.count},
                              {"bn_gamma_abs_mean", r.gamma.absMean}, {"bn_gamma_frac_below_0_01", r.gamma.fracBelow001}};
    std::cout << j.dump(1) << "\n";
    return;
  }
  std::printf("%s: top1 %.2f%%  top5 %.2f%%  loss %.4f  (%lld images)\n", r.split.c_str(), 100 * m.top1, 100 * m.top5,
              m.loss, static_cast<long long>(m.count));
}

}  // namespace

int runEval(int argc, char** argv) {
  CommandLine cl("eval", "--model NAME|PATH [--weights FILE] --data fashion-mnist|DIR|data.yaml [options]");
  ModelArgs model;
  addModelOptions(cl, model);
  DataArgs data;
  addDataOptions(cl, data);
  RunArgs run;
  addRunOptions(cl, run,
                "classify " + std::to_string(evalBatch(TaskKind::Classify)) + ", detect " +
                    std::to_string(evalBatch(TaskKind::Detect)));
  EvalRequest req;
  cl.app()
      .add_option("--save-txt", req.saveTxtDir,
                  "detection: write each validation image's detections to DIR/<stem>.txt as predict --save-txt does")
      ->type_name("DIR");
  cl.app().add_flag("--save-conf", req.saveConf, "with --save-txt: the score after each box");
  if (!cl.parse(argc, argv)) return 0;
  configureThreads(model.threads);
  Session session;
  session.openData(data.spec);
  printDataReport(session.data());
  session.loadModelForData(model.request);
  printLoadWarnings(session.lastLoadReport());
  const bool json = cl.has("--json");
  if (cl.has("--batch")) req.batch = run.batch;
  req.workers = run.workers;
  req.device = runDevice(run);
  req.task = data.task;
  ProgressLine progress(json);
  progress.start("eval");
  req.progress = [&progress](size_t done, size_t total, int64_t images) {
    progress.update(static_cast<int64_t>(done), static_cast<int64_t>(total), images);
  };
  const EvalReport r = session.evaluate(req);
  progress.finish();
  if (r.task == TaskKind::Detect)
    printDetectionEval(r, json);
  else
    printClassificationEval(r, json);
  return 0;
}

}  // namespace prunelab::cli
