// prunelab-cli make-dataset fashion-det: writes the built-in detection dataset.

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "data/detection/fashion_det.h"
#include "util/error.h"

namespace prunelab::cli {

int runMakeDataset(int argc, char** argv) {
  ArgParser p;
  p.option("--out", true, "output directory (gets data.yaml, images/, labels/)")
      .option("--train", true, "training images (default 4000)")
      .option("--val", true, "validation images (default 1000)")
      .option("--size", true, "image size in pixels (default 160)")
      .option("--seed", true, "seed (default 0)")
      .option("--fashion-mnist", true, "Fashion-MNIST directory (default: the Debian package's)")
      .option("--json", false, "print a JSON summary")
      .option("--help", false, "show this help");
  const std::string kind = argc > 2 ? argv[2] : "";
  if (kind == "--help" || kind.empty()) {
    std::cout << "usage: prunelab-cli make-dataset fashion-det --out DIR [--train N] [--val N] [--size S] [--seed S]\n\n"
              << "fashion-det: 1-8 Fashion-MNIST items (24-96 px at 160) per image on textured, tinted\n"
              << "backgrounds, in YOLO format; train items from Fashion-MNIST train, val items from test.\n\n"
              << p.help();
    return kind.empty() ? 2 : 0;
  }
  if (kind != "fashion-det") throw Error("make-dataset", "unknown dataset '" + kind + "' (available: fashion-det)");
  p.parse(argc, argv, 3);
  FashionDetOptions o;
  o.outDir = p.require("--out");
  o.trainImages = static_cast<int>(p.getInt("--train", 4000));
  o.valImages = static_cast<int>(p.getInt("--val", 1000));
  o.size = static_cast<int>(p.getInt("--size", 160));
  o.seed = static_cast<uint64_t>(p.getInt("--seed", 0));
  o.fashionMnistDir = p.get("--fashion-mnist");
  const bool json = p.has("--json");
  const FashionDetSummary s = makeFashionDet(o, [&](int done, int total) {
    if (!json) {
      std::printf("\r%d / %d images", done, total);
      std::fflush(stdout);
    }
  });
  if (json) {
    std::cout << nlohmann::json{{"data", s.dataYaml},
                                {"train_images", s.trainImages},
                                {"val_images", s.valImages},
                                {"train_objects", s.trainObjects},
                                {"val_objects", s.valObjects}}
                     .dump(1)
              << "\n";
  } else {
    std::printf("\nwrote %s: %d train images (%lld objects), %d val images (%lld objects)\n", s.dataYaml.c_str(),
                s.trainImages, static_cast<long long>(s.trainObjects), s.valImages,
                static_cast<long long>(s.valObjects));
  }
  return 0;
}

}  // namespace prunelab::cli
