#pragma once
// Per-sample image transforms on uint8 HWC images, ending in a normalised float CHW
// write into a batch buffer. Randomness comes from a per-sample generator seeded by
// (seed, epoch, index), so results do not depend on which loader thread ran them.

#include <cstdint>
#include <random>
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

// Normalisation used for the built-in data (Fashion-MNIST train-set statistics).
TransformOptions fashionMnistTrainTransform();
TransformOptions fashionMnistEvalTransform();
TransformOptions cifarTrainTransform();
TransformOptions cifarEvalTransform();

// Transforms that fit the dataset (Fashion-MNIST, CIFAR statistics, else [0,1] scaling)
// and the model's input channels.
void defaultTransforms(const Dataset& train, int64_t modelChannels, TransformOptions& trainT, TransformOptions& evalT);

using SampleRng = std::mt19937_64;
SampleRng sampleRng(uint64_t seed, int epoch, size_t index);

// Geometric and colour steps (resize, pad+crop, flip, channels), in place.
void augment(ImageU8& img, const TransformOptions& t, SampleRng& rng, bool randomSteps);

// Writes img as normalised float CHW into `out` (img.channels * H * W floats).
void toNormalizedChw(const ImageU8& img, const TransformOptions& t, float* out);

}  // namespace prunelab
