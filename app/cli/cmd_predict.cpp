// prunelab-cli predict: a detector on images; annotated images and YOLO-format labels.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/device_arg.h"
#include "cli/model_options.h"
#include "cli/progress_line.h"
#include "data/image_files.h"
#include "detect/yolo_head.h"
#include "eval/detection_files.h"
#include "eval/detection_predictor.h"
#include "exec/runtime.h"
#include "models/yolo/yolo_checkpoint.h"
#include "session/session.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace prunelab::cli {

namespace fs = std::filesystem;

namespace {

struct PredictArgs {
  std::string source, out, device = kDefaultDevice;
  int imgsz = 0;
  float conf = 0.25f, iou = 0.7f;
  int maxDet = 300;
  int64_t batch = 1;
  bool saveTxt = false, saveConf = false, noImages = false;
};

// The images `source` names: the file itself, or a folder's image files (not its
// subfolders, as ultralytics' predict), sorted by name.
std::vector<fs::path> sourceImages(const std::string& source) {
  std::error_code ec;
  const fs::file_status st = fs::status(source, ec);
  if (ec || !fs::exists(st)) throw Error(source, "no such file or folder (--source)");
  if (fs::is_regular_file(st)) return {fs::path(source)};
  if (!fs::is_directory(st)) throw Error(source, "is neither an image file nor a folder (--source)");
  std::vector<fs::path> images;
  for (const fs::directory_entry& e : fs::directory_iterator(source))
    if (e.is_regular_file() && isImageFile(e.path())) images.push_back(e.path());
  if (images.empty()) throw Error(source, "holds no image files (.jpg, .png, .bmp, .webp, .tif)");
  std::sort(images.begin(), images.end());
  return images;
}

// Refuses an --out that would overwrite the inputs (annotated images keep their names).
void checkOutFolder(const std::string& out, const std::string& source) {
  std::error_code ec;
  const fs::path sourceDir = fs::is_directory(source) ? fs::path(source) : fs::path(source).parent_path();
  if (fs::exists(out) && fs::equivalent(fs::path(out), sourceDir.empty() ? fs::path(".") : sourceDir, ec))
    throw Error("--out", out + " is the source folder: the annotated images would replace the inputs");
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out)) throw Error("--out", "cannot create the folder " + out + ": " + ec.message());
}

void writeImage(const fs::path& path, const cv::Mat& bgr) {
  std::vector<uchar> bytes;
  std::string ext = path.extension().string();
  if (!cv::imencode(ext, bgr, bytes)) throw Error(path.string(), "OpenCV cannot encode a " + ext + " image");
  writeFileAtomically(path.string(),
                      [&](std::ostream& s) { s.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size())); });
}

std::string countsText(const std::map<int, int>& counts, const std::vector<std::string>& names) {
  std::string text;
  for (const auto& [cls, n] : counts) text += (text.empty() ? "" : ", ") + std::to_string(n) + " " + className(names, cls);
  return text.empty() ? "no detections" : text;
}

// One forward batch: the images that decode (the rest are named on stderr and counted).
struct DecodedBatch {
  std::vector<cv::Mat> rgb, bgr;
  std::vector<fs::path> paths;
};

DecodedBatch decodeImages(const std::vector<fs::path>& images, size_t first, size_t last, size_t& failed) {
  DecodedBatch b;
  for (size_t i = first; i < last; ++i) {
    cv::Mat m = cv::imread(images[i].string(), cv::IMREAD_COLOR);
    if (m.empty()) {
      std::fprintf(stderr, "warning: %s: not an image OpenCV can decode; skipped\n", images[i].c_str());
      ++failed;
      continue;
    }
    cv::Mat r;
    cv::cvtColor(m, r, cv::COLOR_BGR2RGB);
    b.rgb.push_back(std::move(r));
    b.bgr.push_back(std::move(m));
    b.paths.push_back(images[i]);
  }
  return b;
}

void addPredictOptions(CLI::App& a, PredictArgs& p) {
  a.add_option("--source", p.source, "an image, or a folder of images (not its subfolders)")->type_name("PATH")->required();
  a.add_option("--out", p.out, "folder for the annotated images (same names) and labels/")->type_name("DIR")->required();
  a.add_option("--imgsz", p.imgsz, "network input size, a multiple of 32")->type_name("N")->default_str("the model's");
  a.add_option("--conf", p.conf, "confidence threshold")->type_name("P")->capture_default_str();
  a.add_option("--iou", p.iou, "NMS IoU threshold")->type_name("P")->capture_default_str();
  a.add_option("--max-det", p.maxDet, "detections kept per image")->type_name("N")->capture_default_str();
  a.add_option("--batch", p.batch, "images per forward pass")->type_name("N")->capture_default_str();
  a.add_flag("--save-txt", p.saveTxt, "write labels/<stem>.txt per image: class cx cy w h, normalised (YOLO format)");
  a.add_flag("--save-conf", p.saveConf, "with --save-txt: the score after each box");
  a.add_flag("--no-images", p.noImages, "do not write annotated images");
  a.add_option("--device", p.device, "cpu, cuda, cuda:N, N (= cuda:N) or auto")->type_name("DEV")->capture_default_str();
  a.add_flag("--json", "print a JSON summary (every detection) instead of text");
}

void checkPredictArgs(const CommandLine& cl, const PredictArgs& p) {
  if (!(p.conf >= 0 && p.conf <= 1)) throw Error("--conf", "must be in [0, 1]");
  if (!(p.iou > 0 && p.iou <= 1)) throw Error("--iou", "must be in (0, 1]");
  if (p.maxDet <= 0) throw Error("--max-det", "must be at least 1");
  if (p.batch <= 0 || p.batch > 1024) throw Error("--batch", "must be in 1..1024");
  if (cl.has("--imgsz") && (p.imgsz <= 0 || p.imgsz % 32 != 0 || p.imgsz > 8192))
    throw Error("--imgsz", "must be a positive multiple of 32 (the largest stride), at most 8192");
}

// What predict found so far, over every batch.
struct PredictTotals {
  nlohmann::json results = nlohmann::json::array();
  std::map<int, int> counts;
  size_t failed = 0, done = 0;
  double seconds = 0;
};

// Writes one batch's annotated images and labels, and records (or prints) its detections.
void writeBatch(const PredictArgs& p, const DecodedBatch& b, const std::vector<std::vector<Detection>>& dets,
                const std::vector<std::string>& names, double ms, size_t first, size_t imageCount, bool json,
                bool printLines, PredictTotals& t) {
  const fs::path labelsDir = fs::path(p.out) / "labels";
  for (size_t k = 0; k < b.paths.size(); ++k) {
    const cv::Mat& image = b.bgr[k];
    const std::vector<Detection>& d = dets[k];
    if (!p.noImages) writeImage(fs::path(p.out) / b.paths[k].filename(), drawDetections(image, d, names));
    if (p.saveTxt)
      writeYoloLabels((labelsDir / (b.paths[k].stem().string() + ".txt")).string(), d, image.cols, image.rows, p.saveConf);
    std::map<int, int> counts;
    for (const Detection& x : d) ++counts[x.cls], ++t.counts[x.cls];
    ++t.done;
    if (json) {
      nlohmann::json list = nlohmann::json::array();
      for (const Detection& x : d)
        list.push_back({{"cls", x.cls}, {"name", className(names, x.cls)}, {"score", x.score},
                        {"box", {x.box.x1, x.box.y1, x.box.x2, x.box.y2}}});
      t.results.push_back({{"source", b.paths[k].string()}, {"width", image.cols}, {"height", image.rows},
                           {"detections", list}});
    } else if (printLines) {
      std::printf("image %zu/%zu %s: %dx%d %s, %.1fms\n", first + k + 1, imageCount, b.paths[k].c_str(), image.cols,
                  image.rows, countsText(counts, names).c_str(), ms / double(b.paths.size()));
    }
  }
}

void printPredictSummary(const PredictArgs& p, const PredictTotals& t, const std::vector<std::string>& names,
                         int imageSize, bool json) {
  const double msPerImage = t.done ? 1000 * t.seconds / double(t.done) : 0;
  if (json) {
    std::cout << nlohmann::json({{"images", t.results},
                                 {"imgsz", imageSize},
                                 {"ms_per_image", msPerImage},
                                 {"skipped", t.failed},
                                 {"out", p.out}})
                     .dump(1)
              << "\n";
    return;
  }
  std::printf("%zu images, %s; %.1f ms per image at %d px. Results in %s%s\n", t.done,
              countsText(t.counts, names).c_str(), msPerImage, imageSize, p.out.c_str(),
              p.saveTxt ? " (labels in labels/)" : "");
}

}  // namespace

int runPredict(int argc, char** argv) {
  CommandLine cl("predict", "--model M --source IMAGE|DIR --out DIR [--imgsz N] [--conf 0.25] [--iou 0.7] [--save-txt]");
  ModelArgs model;
  addModelOptions(cl, model);
  PredictArgs p;
  addPredictOptions(cl.app(), p);
  if (!cl.parse(argc, argv)) return 0;
  checkPredictArgs(cl, p);
  configureThreads(model.threads);
  const bool json = cl.has("--json");

  const std::vector<fs::path> images = sourceImages(p.source);
  Session session;
  session.loadModel(model.request, p.imgsz);
  printLoadWarnings(session.lastLoadReport());
  const std::shared_ptr<Graph> graph = session.history().currentPtr();
  if (!detect::isDetector(*graph)) throw Error(model.request.model, "is not a YOLO detector: predict needs one");
  checkOutFolder(p.out, p.source);  // created only once there is something to write into it
  const std::vector<std::string> names = classNames(*graph);

  PredictOptions po;
  po.imgsz = p.imgsz;
  po.post.confidence = p.conf;
  po.post.iou = p.iou;
  po.post.maxDetections = p.maxDet;
  po.device = resolveDevice(deviceArgument(p.device));
  const DetectionPredictor predictor(graph, po);
  if (p.saveTxt) createDirectories((fs::path(p.out) / "labels").string());

  ProgressLine progress(json);
  progress.start("predict");
  PredictTotals t;
  for (size_t first = 0; first < images.size(); first += size_t(p.batch)) {
    const size_t last = std::min(images.size(), first + size_t(p.batch));
    const DecodedBatch b = decodeImages(images, first, last, t.failed);
    const auto started = std::chrono::steady_clock::now();
    const auto dets = predictor.predict(b.rgb);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    t.seconds += ms / 1000;
    writeBatch(p, b, dets, names, ms, first, images.size(), json, !progress.enabled(), t);
    progress.update(int64_t(last), int64_t(images.size()), int64_t(b.paths.size()));
  }
  progress.finish();
  printPredictSummary(p, t, names, predictor.imageSize(), json);
  if (t.failed) throw Error(p.source, std::to_string(t.failed) + " of " + std::to_string(images.size()) +
                                          " images could not be decoded (named above); the others were written");
  return 0;
}

}  // namespace prunelab::cli
