#include "data/transforms.h"

#include <cstring>
#include <opencv2/imgproc.hpp>

#include "util/error.h"

namespace prunelab {

TransformOptions fashionMnistTrainTransform() {
  TransformOptions t;
  t.padCrop = 2;
  t.hflip = true;
  t.mean = {0.2860f};
  t.std = {0.3530f};
  return t;
}

TransformOptions fashionMnistEvalTransform() {
  TransformOptions t = fashionMnistTrainTransform();
  t.padCrop = 0;
  t.hflip = false;
  return t;
}

TransformOptions cifarTrainTransform() {
  TransformOptions t;
  t.padCrop = 4;
  t.hflip = true;
  t.mean = {0.4914f, 0.4822f, 0.4465f};
  t.std = {0.2470f, 0.2435f, 0.2616f};
  return t;
}

TransformOptions cifarEvalTransform() {
  TransformOptions t = cifarTrainTransform();
  t.padCrop = 0;
  t.hflip = false;
  return t;
}

SampleRng sampleRng(uint64_t seed, int epoch, size_t index) {
  // splitmix64 of the three, so neighbouring indices get unrelated streams.
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) * 0xBF58476D1CE4E5B9ull + index;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return SampleRng(z ^ (z >> 31));
}

void augment(ImageU8& img, const TransformOptions& t, SampleRng& rng, bool randomSteps) {
  auto mat = [&] { return cv::Mat(img.height, img.width, CV_8UC(img.channels), img.pixels.data()); };
  auto assign = [&](const cv::Mat& m) {
    img.height = m.rows;
    img.width = m.cols;
    img.channels = m.channels();
    img.pixels.assign(m.data, m.data + m.total() * m.elemSize());
  };
  if (t.resize > 0 && (img.height != t.resize || img.width != t.resize)) {
    cv::Mat out;
    cv::resize(mat(), out, cv::Size(t.resize, t.resize), 0, 0, cv::INTER_LINEAR);
    assign(out);
  }
  if (t.channels > 0 && t.channels != img.channels) {
    cv::Mat out;
    cv::cvtColor(mat(), out, t.channels == 3 ? cv::COLOR_GRAY2RGB : cv::COLOR_RGB2GRAY);
    assign(out);
  }
  if (!randomSteps) return;
  if (t.padCrop > 0) {
    const int p = t.padCrop, h = img.height, w = img.width, c = img.channels;
    std::uniform_int_distribution<int> off(0, 2 * p);
    const int dy = off(rng) - p, dx = off(rng) - p;  // shift of the crop window
    std::vector<uint8_t> out(img.pixels.size(), 0);
    for (int y = 0; y < h; ++y) {
      const int sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (int x = 0; x < w; ++x) {
        const int sx = x + dx;
        if (sx < 0 || sx >= w) continue;
        std::memcpy(&out[(size_t(y) * w + x) * c], &img.pixels[(size_t(sy) * w + sx) * c], size_t(c));
      }
    }
    img.pixels.swap(out);
  }
  if (t.hflip && std::bernoulli_distribution(0.5)(rng)) {
    const int w = img.width, c = img.channels;
    for (int y = 0; y < img.height; ++y) {
      uint8_t* row = &img.pixels[size_t(y) * w * c];
      for (int x = 0; x < w / 2; ++x)
        for (int k = 0; k < c; ++k) std::swap(row[x * c + k], row[(w - 1 - x) * c + k]);
    }
  }
}

void toNormalizedChw(const ImageU8& img, const TransformOptions& t, float* out) {
  const size_t plane = size_t(img.height) * img.width;
  for (int c = 0; c < img.channels; ++c) {
    const float mean = t.mean.empty() ? 0.f : t.mean[size_t(c) % t.mean.size()];
    const float scale = 1.f / (255.f * (t.std.empty() ? 1.f : t.std[size_t(c) % t.std.size()]));
    const float shift = mean / (t.std.empty() ? 1.f : t.std[size_t(c) % t.std.size()]);
    float* dst = out + size_t(c) * plane;
    for (size_t i = 0; i < plane; ++i) dst[i] = img.pixels[i * img.channels + c] * scale - shift;
  }
}

void defaultTransforms(const Dataset& train, int64_t modelChannels, TransformOptions& trainT,
                       TransformOptions& evalT, const ClassifyInputOptions& input) {
  const std::string& norm = input.normalize;
  if (norm != "auto" && norm != "imagenet" && norm != "none")
    throw Error("--normalize", "must be auto, imagenet or none, got '" + norm + "'");
  if (input.imgsz < 0) throw Error("--imgsz", "must be positive (0 = as stored)");
  const std::string d = train.description();
  const bool builtIn = d.rfind("Fashion-MNIST", 0) == 0 || d.rfind("CIFAR-10", 0) == 0;
  if (d.rfind("Fashion-MNIST", 0) == 0) {
    trainT = fashionMnistTrainTransform();
    evalT = fashionMnistEvalTransform();
  } else if (d.rfind("CIFAR-10", 0) == 0) {
    trainT = cifarTrainTransform();
    evalT = cifarEvalTransform();
  } else {
    trainT = TransformOptions{};
    trainT.hflip = true;
    evalT = TransformOptions{};
  }
  trainT.channels = evalT.channels = static_cast<int>(modelChannels);
  if (trainT.mean.size() > 1 && modelChannels == 1) trainT.mean = evalT.mean = {trainT.mean[0]};
  if (trainT.std.size() > 1 && modelChannels == 1) trainT.std = evalT.std = {trainT.std[0]};

  std::vector<float> mean = trainT.mean, std = trainT.std;
  const bool imagenet = norm == "imagenet" || (norm == "auto" && !builtIn && modelChannels == 3);
  if (norm == "imagenet" && modelChannels != 3)
    throw Error("--normalize", "imagenet needs 3-channel input; the model takes " + std::to_string(modelChannels));
  if (imagenet) {
    mean.assign(kImageNetMean, kImageNetMean + 3);
    std.assign(kImageNetStd, kImageNetStd + 3);
  } else if (norm == "none") {
    mean.clear();
    std.clear();
  }
  const auto given = [&](const std::vector<float>& v, const char* option) {
    if (v.size() != 1 && v.size() != static_cast<size_t>(modelChannels))
      throw Error(option, "needs 1 or " + std::to_string(modelChannels) + " values (the model's channels), got " +
                              std::to_string(v.size()));
  };
  if (!input.mean.empty()) {
    given(input.mean, "--mean");
    mean = input.mean;
  }
  if (!input.std.empty()) {
    given(input.std, "--std");
    for (float s : input.std)
      if (!(s > 0)) throw Error("--std", "values must be positive");
    std = input.std;
  }
  trainT.mean = evalT.mean = mean;
  trainT.std = evalT.std = std;
  trainT.resize = evalT.resize = input.imgsz;
}

}  // namespace prunelab
