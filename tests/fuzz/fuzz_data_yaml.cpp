// YOLO data.yaml (data/detection/detection_dataset.h). Every input is parsed
// (parseYoloDataYaml); one whose paths all stay inside a sandbox (relative, no "..") is
// then opened for real there (openYoloData: ROOT, split folders and .txt lists, label
// files), over a fixed tree of two images with labels. Paths that leave the sandbox are
// not opened: a data.yaml naming "/" would make the harness scan the machine, which is
// what the user asked for, not a bug.

#include <filesystem>

#include "data/detection/detection_dataset.h"
#include "fuzz_targets.h"

using namespace prunelab;
namespace fs = std::filesystem;

namespace {

bool staysInside(const std::string& p) {
  if (p.empty()) return true;
  const fs::path path(p);
  if (path.is_absolute() || p.find('\0') != std::string::npos) return false;
  for (const auto& part : path)
    if (part == "..") return false;
  return true;
}

// sandbox/{images,labels}/{train,val}/a.png|txt, a list file, and the yaml's place.
const std::string& sandbox() {
  static const std::string root = [] {
    const std::string dir = fuzz::scratchDir() + "/data";
    // A 1x1 PNG: the dataset only decodes images on demand, but the files must exist.
    static const unsigned char png[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48,
                                        0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55,
                                        0, 0, 0, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0x60, 0, 0, 0, 2,
                                        0, 1, 0xe2, 0x21, 0xbc, 0x33, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae,
                                        0x42, 0x60, 0x82};
    for (const char* split : {"train", "val"}) {
      fs::create_directories(dir + "/images/" + split);
      fs::create_directories(dir + "/labels/" + split);
      std::ofstream(dir + "/images/" + split + "/a.png", std::ios::binary)
          .write(reinterpret_cast<const char*>(png), sizeof png);
      std::ofstream(dir + "/images/" + split + "/b.png", std::ios::binary)
          .write(reinterpret_cast<const char*>(png), sizeof png);
      std::ofstream(dir + "/labels/" + split + "/a.txt") << "0 0.5 0.5 0.2 0.2\n1 0.1 0.1 0.1 0.1\n";
      std::ofstream(dir + "/labels/" + split + "/b.txt") << "7 0.5 0.5 0.2 0.2\n";  // class 7: bad for small nc
    }
    std::ofstream(dir + "/train.txt") << "./images/train/a.png\nimages/train/b.png\nmissing.png\n";
    fs::current_path(dir);  // ultralytics' ./datasets fallback is relative to here
    return dir;
  }();
  return root;
}

}  // namespace

int fuzz::fuzz_data_yaml(const uint8_t* data, size_t size) {
  const std::string text = fuzz::bytesOf(data, size);
  YoloDataSpec spec;
  if (!fuzz::parsesOrNamesFile("data.yaml", [&] { spec = parseYoloDataYaml(text, "data.yaml"); })) return 0;
  bool inside = !spec.path || staysInside(*spec.path);
  for (const auto* split : {&spec.train, &spec.val, &spec.test})
    for (const auto& e : *split) inside = inside && staysInside(e);
  if (!inside) return 0;
  const std::string& dir = sandbox();
  const std::string path = fuzz::writeScratch("data/data.yaml", text);
  // Errors name the yaml or a file of the tree (a list, a split folder): all in `dir`.
  fuzz::parsesOrNamesFile(dir, [&] { openYoloData(path); });
  return 0;
}
