// ONNX import (io/onnx_import.h) from bytes, then what every load does next: shape
// inference at the model's default input and the cost count.

#include "analysis/cost.h"
#include "analysis/shape_inference.h"
#include "fuzz_targets.h"
#include "io/onnx_import.h"

using namespace prunelab;

int fuzz::fuzz_onnx(const uint8_t* data, size_t size) {
  Graph g;
  if (!fuzz::parsesOrNamesFile("fuzz.onnx", [&] { g = importOnnxFromString(fuzz::bytesOf(data, size), {}, "fuzz.onnx"); }))
    return 0;
  fuzz::runOrError([&] {
    inferShapes(g, defaultInputShape(g));
    computeCost(g);
  });
  return 0;
}
