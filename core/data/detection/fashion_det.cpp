#include "data/detection/fashion_det.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "data/dataset.h"
#include "data/in_memory_dataset.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace prunelab {

namespace {

using Rng = std::mt19937_64;
double uni(Rng& r, double a, double b) { return std::uniform_real_distribution<double>(a, b)(r); }
int uniInt(Rng& r, int a, int b) { return std::uniform_int_distribution<int>(a, b)(r); }

// Backgrounds: smooth noise, stripes, checks or gradients, tinted, plus pixel noise, so
// the detector cannot rely on a flat background.
cv::Mat texturedBackground(int size, Rng& rng) {
  cv::Mat bg(size, size, CV_32FC3);
  const cv::Vec3f base(float(uni(rng, 0.1, 0.9)), float(uni(rng, 0.1, 0.9)), float(uni(rng, 0.1, 0.9)));
  const cv::Vec3f other(float(uni(rng, 0.1, 0.9)), float(uni(rng, 0.1, 0.9)), float(uni(rng, 0.1, 0.9)));
  const int kind = uniInt(rng, 0, 3);
  if (kind == 0) {  // smooth random field
    const int cells = uniInt(rng, 3, 12);
    cv::Mat small(cells, cells, CV_32F);
    for (int y = 0; y < cells; ++y)
      for (int x = 0; x < cells; ++x) small.at<float>(y, x) = float(uni(rng, 0, 1));
    cv::Mat field;
    cv::resize(small, field, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const float t = std::clamp(field.at<float>(y, x), 0.f, 1.f);
        bg.at<cv::Vec3f>(y, x) = base * (1 - t) + other * t;
      }
  } else if (kind == 1) {  // stripes at a random angle
    const double period = uni(rng, 6, 40), angle = uni(rng, 0, M_PI);
    const double c = std::cos(angle), s = std::sin(angle);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const float t = float(0.5 + 0.5 * std::sin(2 * M_PI * (x * c + y * s) / period));
        bg.at<cv::Vec3f>(y, x) = base * (1 - t) + other * t;
      }
  } else if (kind == 2) {  // checks
    const int cell = uniInt(rng, 8, 40);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) bg.at<cv::Vec3f>(y, x) = ((x / cell + y / cell) % 2) ? base : other;
  } else {  // linear gradient
    const double angle = uni(rng, 0, 2 * M_PI);
    const double c = std::cos(angle), s = std::sin(angle);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x) {
        const float t = float(std::clamp(0.5 + ((x - size / 2.0) * c + (y - size / 2.0) * s) / size, 0.0, 1.0));
        bg.at<cv::Vec3f>(y, x) = base * (1 - t) + other * t;
      }
  }
  cv::Mat noise(size, size, CV_32FC3);
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(uni(rng, 0.0, 0.08)));
  bg += noise;
  return bg;
}

struct Item {
  cv::Mat alpha;  // CV_32F in [0, 1], tight crop of the silhouette
  int cls;
};

// Fashion-MNIST item `index` cropped to its silhouette (pixels above a small threshold).
Item cropItem(const Dataset& data, size_t index) {
  const ImageU8 img = data.image(index);
  cv::Mat m(img.height, img.width, CV_8U, const_cast<uint8_t*>(img.pixels.data()));
  cv::Mat mask = m > 12;
  cv::Rect r = cv::boundingRect(mask);
  if (r.width < 2 || r.height < 2) r = cv::Rect(0, 0, img.width, img.height);
  Item item;
  m(r).convertTo(item.alpha, CV_32F, 1.0 / 255.0);
  item.cls = static_cast<int>(data.label(index));
  return item;
}

double iou(const cv::Rect2d& a, const cv::Rect2d& b) {
  const double inter = (a & b).area();
  return inter / (a.area() + b.area() - inter);
}

struct Placed {
  cv::Rect box;
  int cls;
};

cv::Mat composeImage(const Dataset& items, int size, const FashionDetOptions& o, Rng& rng, std::vector<Placed>& placed) {
  cv::Mat canvas = texturedBackground(size, rng);
  const int count = uniInt(rng, o.minItems, o.maxItems);
  const double scale = size / 160.0;  // the 24-96 px range is defined at 160 px
  placed.clear();
  for (int k = 0; k < count; ++k) {
    const Item item = cropItem(items, std::uniform_int_distribution<size_t>(0, items.size() - 1)(rng));
    const int longSide = std::min(size, int(std::lround(uni(rng, 24, 96) * scale)));
    const double r = double(longSide) / std::max(item.alpha.rows, item.alpha.cols);
    const int w = std::max(2, int(std::lround(item.alpha.cols * r))), h = std::max(2, int(std::lround(item.alpha.rows * r)));
    bool ok = false;
    cv::Rect box;
    for (int attempt = 0; attempt < 50 && !ok; ++attempt) {
      box = cv::Rect(uniInt(rng, 0, size - w), uniInt(rng, 0, size - h), w, h);
      ok = std::all_of(placed.begin(), placed.end(),
                       [&](const Placed& p) { return iou(cv::Rect2d(box), cv::Rect2d(p.box)) <= o.maxOverlapIou; });
    }
    if (!ok) continue;  // crowded: fewer items this time
    cv::Mat alpha;
    cv::resize(item.alpha, alpha, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
    // The item's grey level becomes opacity (boosted so that dark garments stay
    // visible) and its brightness modulates a random tint.
    const cv::Vec3f tint(float(uni(rng, 0.0, 1.0)), float(uni(rng, 0.0, 1.0)), float(uni(rng, 0.0, 1.0)));
    const float boost = float(uni(rng, 1.5, 3.0));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float v = alpha.at<float>(y, x);
        const float a = std::min(1.f, v * boost);
        cv::Vec3f& px = canvas.at<cv::Vec3f>(box.y + y, box.x + x);
        const cv::Vec3f fg = tint * (0.35f + 0.65f * v);
        px = px * (1 - a) + fg * a;
      }
    placed.push_back({box, item.cls});
  }
  cv::Mat out;
  canvas.convertTo(out, CV_8UC3, 255.0);
  cv::cvtColor(out, out, cv::COLOR_RGB2BGR);
  return out;
}

void writeSplit(const Dataset& items, const std::string& split, int count, const FashionDetOptions& o, uint64_t seed,
                int64_t& objects, int& done, int total, const std::function<void(int, int)>& progress) {
  const fs::path imgDir = fs::path(o.outDir) / "images" / split, lblDir = fs::path(o.outDir) / "labels" / split;
  createDirectories(imgDir.string());
  createDirectories(lblDir.string());
  std::vector<Placed> placed;
  for (int i = 0; i < count; ++i) {
    Rng rng(seed * 0x9E3779B97F4A7C15ULL + uint64_t(i) + 1);
    const cv::Mat image = composeImage(items, o.size, o, rng, placed);
    char stem[32];
    std::snprintf(stem, sizeof stem, "%06d", i);
    std::vector<uchar> jpg;
    cv::imencode(".jpg", image, jpg, {cv::IMWRITE_JPEG_QUALITY, 92});
    writeFileAtomically((imgDir / (std::string(stem) + ".jpg")).string(),
                        [&](std::ostream& os) { os.write(reinterpret_cast<const char*>(jpg.data()), std::streamsize(jpg.size())); });
    writeFileAtomically((lblDir / (std::string(stem) + ".txt")).string(), [&](std::ostream& os) {
      char line[128];
      for (const Placed& p : placed) {
        std::snprintf(line, sizeof line, "%d %.6f %.6f %.6f %.6f\n", p.cls, (p.box.x + p.box.width / 2.0) / o.size,
                      (p.box.y + p.box.height / 2.0) / o.size, double(p.box.width) / o.size,
                      double(p.box.height) / o.size);
        os << line;
      }
    });
    objects += int64_t(placed.size());
    ++done;
    if (progress && (done % 100 == 0 || done == total)) progress(done, total);
  }
}

}  // namespace

FashionDetSummary makeFashionDet(const FashionDetOptions& o, const std::function<void(int, int)>& progress) {
  if (o.outDir.empty()) throw Error("--out", "is required");
  if (o.size < 32) throw Error("--size", "must be at least 32");
  if (o.trainImages <= 0 || o.valImages <= 0) throw Error("--train/--val", "must be positive");
  const std::string dir = o.fashionMnistDir.empty() ? defaultFashionMnistDir() : o.fashionMnistDir;
  const auto train = loadFashionMnist(dir, true);
  const auto test = loadFashionMnist(dir, false);

  FashionDetSummary s;
  int done = 0;
  const int total = o.trainImages + o.valImages;
  writeSplit(*train, "train", o.trainImages, o, o.seed * 2 + 1, s.trainObjects, done, total, progress);
  writeSplit(*test, "val", o.valImages, o, o.seed * 2 + 2, s.valObjects, done, total, progress);
  s.trainImages = o.trainImages;
  s.valImages = o.valImages;
  s.dataYaml = (fs::path(o.outDir) / "data.yaml").string();
  writeFileAtomically(s.dataYaml, [&](std::ostream& os) {
    os << "# fashion-det: Fashion-MNIST items on textured backgrounds (prunelab-cli make-dataset)\n"
       << "path: .\ntrain: images/train\nval: images/val\nnames:\n";
    const auto names = train->classNames();
    for (size_t i = 0; i < names.size(); ++i) os << "  " << i << ": " << names[i] << "\n";
  });
  return s;
}

}  // namespace prunelab
