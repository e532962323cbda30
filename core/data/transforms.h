#pragma once
// Per-sample image transforms on uint8 HWC images, ending in a normalised float CHW
// write into a batch buffer. Randomness comes from a per-sample generator seeded by
// (seed, epoch, index), so results do not depend on which loader thread ran them.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace prunelab {

struct TransformOptions {
  int resize = 0;           // > 0: resize to resize x resize (bilinear) first
  int padCrop = 0;          // > 0: zero-pad by this much, then crop the original size at random
  bool hflip = false;       // random horizontal flip
  int channels = 0;         // > 0: convert to 1 (luma) or 3 (replicate gray) channels
  std::vector<float> mean;  // per channel, in [0,1] units; empty = 0
  std::vector<float> std;   // per channel; empty = 1
};

// How classification images are sized and normalised, as the user asks (the CLI's
// --imgsz, --normalize, --mean, --std). These defaults are the ones --help shows.
struct ClassifyInputOptions {
  int imgsz = 0;                   // > 0: resize every image to imgsz x imgsz (bilinear); 0 = as stored
  std::string normalize = "auto";  // auto | imagenet | none (see defaultTransforms)
  std::vector<float> mean, std;    // given: override the mean/std of `normalize` (one value, or one per channel)
};

// torchvision's ImageNet statistics (RGB, [0,1] units): what its pretrained weights expect.
constexpr float kImageNetMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kImageNetStd[3] = {0.229f, 0.224f, 0.225f};

// Normalisation used for the built-in data (Fashion-MNIST train-set statistics).
TransformOptions fashionMnistTrainTransform();
TransformOptions fashionMnistEvalTransform();
TransformOptions cifarTrainTransform();
TransformOptions cifarEvalTransform();

// Transforms that fit the dataset and the model's input channels, under `input`:
// normalize "auto" = the built-in data's own statistics (Fashion-MNIST, CIFAR-10), ImageNet's
// for other data fed as 3 channels (image folders are decoded as RGB), else none;
// "imagenet" (3 channels only); "none" = [0,1] scaling. input.mean/std override the mean
// and std. Throws prunelab::Error naming the option for a bad value.
void defaultTransforms(const Dataset& train, int64_t modelChannels, TransformOptions& trainT, TransformOptions& evalT,
                       const ClassifyInputOptions& input = {});

using SampleRng = std::mt19937_64;
SampleRng sampleRng(uint64_t seed, int epoch, size_t index);

// Geometric and colour steps (resize, pad+crop, flip, channels), in place.
void augment(ImageU8& img, const TransformOptions& t, SampleRng& rng, bool randomSteps);

// Writes img as normalised float CHW into `out` (img.channels * H * W floats).
void toNormalizedChw(const ImageU8& img, const TransformOptions& t, float* out);

}  // namespace prunelab
