#include "cli/data_options.h"

#include <cstdio>
#include <sstream>

#include "cli/device_arg.h"
#include "cli/model_options.h"  // checkedCount
#include "data/data_loader.h"
#include "exec/runtime.h"

namespace prunelab::cli {

namespace {

// Bounds of the data options: past them a value is a typo, not a request.
constexpr int64_t kMaxImgsz = 32768;
constexpr int64_t kMaxEpochs = 1000000;

// 0.5 as CLI11 shows a default (stream formatting).
std::string numberText(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

void addDataOptions(CommandLine& cl, DataArgs& d) {
  CLI::App& a = cl.app();
  a.add_option("--data", d.spec.spec,
               "fashion-mnist (built-in), a CIFAR-10 binary dir, a dir with train/ and val/ class folders, "
               "or a YOLO data.yaml (detection)")
      ->type_name("SPEC")
      ->capture_default_str();
  a.add_option("--task", d.spec.task, "classify or detect")->type_name("TASK")->default_str("detect for a YOLO data.yaml, else classify");
  // Given, a limit is a number of images: 0 used to mean "all" silently.
  a.add_option_function<int64_t>(
       "--train-limit", [&d](const int64_t& v) { d.spec.trainLimit = checkedCount("--train-limit", v, 1, int64_t(1) << 40); },
       "use only N training images (seeded subset)")
      ->type_name("N")
      ->default_str("all");
  a.add_option_function<int64_t>(
       "--val-limit", [&d](const int64_t& v) { d.spec.valLimit = checkedCount("--val-limit", v, 1, int64_t(1) << 40); },
       "use only N validation images")
      ->type_name("N")
      ->default_str("all");
  // A command with a --seed of its own (prune) binds the data's seed to it.
  if (!a.get_option_no_throw("--seed"))
    a.add_option("--seed", d.spec.seed, "seed for initialisation, data order, subsets and augmentation")
        ->type_name("N")
        ->capture_default_str();
  // One --imgsz for both tasks: detection's input size and classification's resize.
  a.add_option_function<int64_t>(
       "--imgsz",
       [&d](const int64_t& v) {
         d.task.imgsz = checkedCount("--imgsz", v, 1, kMaxImgsz);  // 0 meant "the default" silently
         d.spec.input.imgsz = static_cast<int>(v);
       },
       "square input size: detection (a multiple of 32), or classification (resize every image to PX x PX)")
      ->type_name("PX")
      ->default_str("detect: the model's, else 640; classify: as stored");
  std::ostringstream imagenet;
  imagenet << "imagenet = mean " << kImageNetMean[0] << "," << kImageNetMean[1] << "," << kImageNetMean[2] << " std "
           << kImageNetStd[0] << "," << kImageNetStd[1] << "," << kImageNetStd[2];
  // prune's --normalize ranks channels; there the data keeps --normalize's default (--mean/--std still apply).
  if (!a.get_option_no_throw("--normalize"))
    a.add_option("--normalize", d.spec.input.normalize,
                 "classification: auto (the built-in data's statistics, ImageNet's for 3-channel image folders, "
                 "else none), imagenet, or none ([0,1]); " + imagenet.str())
        ->type_name("MODE")
        ->check(CLI::IsMember({"auto", "imagenet", "none"}).description(""))  // the choices are in the text
        ->capture_default_str();
  a.add_option("--mean", d.spec.input.mean, "classification: per-channel mean in [0,1] units, overrides --normalize")
      ->type_name("R,G,B")
      ->delimiter(',')
      ->default_str("by --normalize");
  a.add_option("--std", d.spec.input.std, "classification: per-channel std, overrides --normalize")
      ->type_name("R,G,B")
      ->delimiter(',')
      ->default_str("by --normalize");
  a.add_option_function<double>(
       "--mosaic",
       [&d](const double& v) {
         if (!(v >= 0 && v <= 1)) throw Error("--mosaic", "must be a probability in [0, 1], got " + numberText(v));
         d.task.mosaic = v;
       },
       "detection: mosaic probability")
      ->type_name("P")
      ->default_str(numberText(d.task.mosaic));
  a.add_option_function<int64_t>(
       "--close-mosaic",
       [&d](const int64_t& v) { d.task.closeMosaic = static_cast<int>(checkedCount("--close-mosaic", v, 0, kMaxEpochs)); },
       "detection: last N epochs without mosaic")
      ->type_name("N")
      ->default_str(std::to_string(d.task.closeMosaic));
  a.add_option("--conf", d.task.confidence, "detection: confidence threshold for mAP")
      ->type_name("P")
      ->capture_default_str();
  a.add_option("--iou", d.task.iou, "detection: NMS IoU threshold")->type_name("P")->default_str("0.7, v5 heads 0.6");
}

void addRunOptions(CommandLine& cl, RunArgs& r, const std::string& batchDefault) {
  CLI::App& a = cl.app();
  r.workers = LoaderOptions{}.workers;
  r.device = kDefaultDevice;
  a.add_option_function<int64_t>(
       "--batch", [&r](const int64_t& v) { r.batch = checkedCount("--batch", v, 1, kMaxBatch); }, "batch size")
      ->type_name("N")
      ->default_str(batchDefault);
  a.add_option_function<int64_t>(
       "--workers", [&r](const int64_t& v) { r.workers = static_cast<int>(checkedCount("--workers", v, 0, kMaxThreads)); },
       "data loader threads")
      ->type_name("N")
      ->default_str(std::to_string(r.workers));
  a.add_option("--device", r.device, "cpu, cuda, cuda:N, N (= cuda:N, as ultralytics' device=0) or auto")
      ->type_name("DEV")
      ->capture_default_str();
  a.add_flag("--json", "print a JSON summary at the end");
}

void printDataReport(const OpenedData& data) {
  for (const std::string& line : dataReport(data)) std::fprintf(stderr, "%s\n", line.c_str());
}

std::string runDevice(const RunArgs& r) { return resolveDevice(deviceArgument(r.device)); }

}  // namespace prunelab::cli
