// prunelab-cli make-dataset fashion-det: writes the built-in detection dataset.

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "data/detection/fashion_det.h"
#include "util/error.h"

namespace prunelab::cli {

int runMakeDataset(int argc, char** argv) {
  CommandLine cl("make-dataset", "fashion-det --out DIR [--train N] [--val N] [--size S] [--seed S]");
  FashionDetOptions o;  // its defaults are the ones --help shows
  std::string kind;
  CLI::App& a = cl.app();
  a.add_option("DATASET", kind, "the dataset to write: fashion-det")->type_name("")->required();
  a.add_option("--out", o.outDir, "output directory (gets data.yaml, images/, labels/)")->type_name("DIR")->required();
  a.add_option("--train", o.trainImages, "training images")->type_name("N")->capture_default_str();
  a.add_option("--val", o.valImages, "validation images")->type_name("N")->capture_default_str();
  a.add_option("--size", o.size, "image size in pixels")->type_name("PX")->capture_default_str();
  a.add_option("--seed", o.seed, "seed")->type_name("N")->capture_default_str();
  a.add_option("--fashion-mnist", o.fashionMnistDir, "Fashion-MNIST directory")
      ->type_name("DIR")
      ->default_str("the Debian package's");
  a.add_flag("--json", "print a JSON summary");
  cl.footer("\nfashion-det: 1-8 Fashion-MNIST items (24-96 px at 160) per image on textured, tinted\n"
            "backgrounds, in YOLO format; train items from Fashion-MNIST train, val items from test.");
  if (argc <= 2) {  // no dataset named: the help, as a usage error
    std::cout << cl.help();
    return 2;
  }
  if (!cl.parse(argc, argv)) return 0;
  if (kind != "fashion-det") throw Error("make-dataset", "unknown dataset '" + kind + "' (available: fashion-det)");
  const bool json = cl.has("--json");
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
