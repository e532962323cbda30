#pragma once
// fashion-det: a synthetic but real detection problem built from Fashion-MNIST, the
// embedded default for demos, tests and benchmarks (no download needed).
// Each image: a random textured background with a colour tint, 1-8 Fashion-MNIST items
// (all 10 classes; train items from Fashion-MNIST's train split, val items from its test
// split) cropped to their silhouette, scaled to a long side of 24-96 px (at size 160;
// scaled with `size`), tinted, alpha-blended by their grey level, and placed so that no
// two boxes overlap by more than IoU 0.3. Boxes are the items' tight silhouettes.
// Output: a YOLO-format directory (data.yaml, images/{train,val}, labels/{train,val}).
// Deterministic for a given seed.

#include <cstdint>
#include <functional>
#include <string>

namespace prunelab {

struct FashionDetOptions {
  std::string outDir;
  int trainImages = 4000;
  int valImages = 1000;
  int size = 160;
  uint64_t seed = 0;
  std::string fashionMnistDir;  // empty: defaultFashionMnistDir()
  int minItems = 1, maxItems = 8;
  double maxOverlapIou = 0.3;
};

struct FashionDetSummary {
  int trainImages = 0, valImages = 0;
  int64_t trainObjects = 0, valObjects = 0;
  std::string dataYaml;
};

// Writes the dataset (files written atomically: an interrupted run leaves no half
// image). `progress(done, total)` is called from the calling thread.
FashionDetSummary makeFashionDet(const FashionDetOptions& options,
                                 const std::function<void(int, int)>& progress = nullptr);

}  // namespace prunelab
