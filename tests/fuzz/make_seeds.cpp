// fuzz_make_seeds OUTDIR: the seeds PruneLab writes itself, for the corpora in
// tests/fuzz/corpus/: tagged ONNX exports (fuzz_onnx) and native checkpoints with their
// manifests (fuzz_plm), of graphs small enough to keep the corpus tiny.
//   build-fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "../support/synthetic_models.h"
#include "analysis/shape_inference.h"
#include "io/checkpoint.h"
#include "io/onnx_export.h"
#include "io/torch_zip.h"
#include "models/yolo/yolo_builder.h"

using namespace prunelab;
namespace fs = std::filesystem;

namespace {

void writeBytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A small classifier: conv-bn-relu, a strided grouped conv, pooling, flatten, linear.
Graph classifier() {
  Graph g;
  GraphBuilder b(g);
  ValueId x = b.input("input", {3, 8, 8});
  x = test::convBlock(b, x, "features.0", 4, 3, 1);
  x = b.conv(x, "features.1", 4, 3, 2, 1, 2);
  x = b.maxPool(x, "pool", 2, 2);
  x = b.globalAvgPool(x, "gap");
  x = b.flatten(x, "flatten");
  b.output(b.linear(x, "fc", 3));
  g.metadata()["input"] = "3x8x8";
  return g;
}

// A yolov5-style detector from a tiny YAML: C3, SPPF, Upsample, Concat, anchor Detect +
// decode (the DFL head of v8 would make the seed 20 times larger; the shipped YAMLs in the
// model-YAML corpus cover it).
Graph tinyDetector() {
  const std::string yaml =
      "nc: 2\ndepth_multiple: 0.33\nwidth_multiple: 0.25\n"
      "anchors: [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119]]\n"
      "backbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [32, 3, 2]]\n  - [-1, 1, C3, [32]]\n"
      "  - [-1, 1, SPPF, [32, 5]]\nhead:\n  - [-1, 1, nn.Upsample, [None, 2, nearest]]\n"
      "  - [[-1, 0], 1, Concat, [1]]\n  - [-1, 1, C3, [16, False]]\n  - [[6, 3], 1, Detect, [nc, anchors]]\n";
  YoloOptions o;
  o.inputSize = 32;
  return buildYoloFromYaml(yaml, "tiny.yaml", o);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds OUTDIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  at::manual_seed(0);
  for (const std::string name : {"yololike", "classifier", "detector"}) {
    Graph g = name == "yololike" ? test::yoloLike(4) : name == "classifier" ? classifier() : tinyDetector();
    inferShapes(g, defaultInputShape(g));
    writeBytes(out / "fuzz_onnx" / (name + "_tagged.onnx"), exportOnnxToString(g));
    OnnxExportOptions folded;
    folded.opset = 13;
    folded.foldBn = true;
    writeBytes(out / "fuzz_onnx" / (name + "_folded_op13.onnx"), exportOnnxToString(g, folded));
    const fs::path plm = out / "fuzz_plm" / (name + ".plm");
    fs::create_directories(plm.parent_path());
    Checkpoint ck;
    ck.graph = std::move(g);
    ck.info["epoch"] = "1";
    ck.extraTensors["momentum"] = at::ones({4});
    saveCheckpoint(plm.string(), ck);
    writeBytes(out / "fuzz_plm" / (name + "_manifest.json"), TorchZipReader(plm.string()).readRecord("prunelab.json"));
  }
  std::cout << "seeds written to " << out << "\n";
  return 0;
}
