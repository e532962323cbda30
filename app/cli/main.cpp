// prunelab-cli: every PruneLab step, headless, on the same core as the GUI.

#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "util/error.h"

namespace {

void printUsage() {
  std::cout << "PruneLab " PRUNELAB_VERSION " - structured channel pruning workbench (command line)\n\n"
               "usage: prunelab-cli COMMAND [options]   (COMMAND --help for its options)\n\n"
               "commands:\n"
               "  info     per-layer table and totals (params, MACs, size) of a model\n"
               "  infer    run a model on a .npy input and write .npy outputs\n"
               "  train    train, sparse-train (--sr) or fine-tune a classifier or detector; resumable\n"
               "  eval     top-1/top-5 of a classifier or mAP of a detector on the validation split\n"
               "  prune    dependency-aware channel pruning: score, plan, cut, verify\n"
               "  export   write a model as ONNX, TorchScript or a native checkpoint, then check it\n"
               "  report   HTML or PDF report of a story run directory\n"
               "  make-dataset fashion-det   write the built-in detection dataset (YOLO format)\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    printUsage();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "prunelab-cli " PRUNELAB_VERSION "\n";
    return 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "info") return prunelab::cli::runInfo(argc, argv);
    if (command == "infer") return prunelab::cli::runInfer(argc, argv);
    if (command == "train") return prunelab::cli::runTrain(argc, argv);
    if (command == "eval") return prunelab::cli::runEval(argc, argv);
    if (command == "prune") return prunelab::cli::runPrune(argc, argv);
    if (command == "export") return prunelab::cli::runExport(argc, argv);
    if (command == "report") {
#ifdef PRUNELAB_HAVE_REPORT
      return prunelab::cli::runReport(argc, argv);
#else
      throw prunelab::Error("report", "this prunelab-cli was built without the GUI libraries (PRUNELAB_BUILD_GUI=OFF)");
#endif
    }
    if (command == "make-dataset") return prunelab::cli::runMakeDataset(argc, argv);
    std::cerr << "prunelab-cli: unknown command '" << command << "'\n";
    printUsage();
    return 2;
  } catch (const prunelab::Error& e) {
    std::cerr << "prunelab-cli " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "prunelab-cli " << command << ": internal error: " << e.what() << "\n";
    return 3;
  }
}
