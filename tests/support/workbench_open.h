#pragma once
// Opens the built-in Fashion-MNIST (seeded subsets of `trainImages` / `valImages`) and a
// built-in model in a workbench: the start of most workbench tests and of bench_gui.
// Returns at once; the worker loads both in the background (wait for bench.idle()).

#include <cstdint>
#include <string>

#include "gui/workbench.h"

namespace prunelab::test {

inline void openFashionMnist(gui::Workbench& bench, int64_t trainImages, int64_t valImages,
                             const std::string& model = "resnet20") {
  DataSpec d;
  d.spec = "fashion-mnist";
  d.trainLimit = trainImages;
  d.valLimit = valImages;
  bench.openData(d);
  gui::ModelSpec m;
  m.model = model;
  m.numClasses = 10;
  bench.openModel(m);
}

}  // namespace prunelab::test
