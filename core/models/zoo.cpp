#include "models/zoo.h"

#include <ATen/ATen.h>

#include "util/error.h"

namespace prunelab {

const std::vector<ZooEntry>& zooModels() {
  static const std::vector<ZooEntry> entries = {
      {"resnet18", "torchvision ResNet-18", 1000, {3, 224, 224}},
      {"resnet34", "torchvision ResNet-34", 1000, {3, 224, 224}},
      {"resnet20", "CIFAR ResNet-20 (16/32/64, projection shortcuts)", 10, {3, 32, 32}},
      {"resnet56", "CIFAR ResNet-56 (16/32/64, projection shortcuts)", 10, {3, 32, 32}},
      {"vgg11_bn", "CIFAR VGG-11 with BatchNorm", 10, {3, 32, 32}},
      {"vgg16_bn", "CIFAR VGG-16 with BatchNorm", 10, {3, 32, 32}},
      {"mobilenet_v2", "torchvision MobileNetV2 (width 1.0)", 1000, {3, 224, 224}},
  };
  return entries;
}

bool isZooModel(const std::string& name) {
  for (const auto& e : zooModels())
    if (e.name == name) return true;
  return false;
}

Graph buildZooModel(const std::string& name, const ZooOptions& options) {
  const ZooEntry* entry = nullptr;
  for (const auto& e : zooModels())
    if (e.name == name) entry = &e;
  if (!entry) {
    std::string known;
    for (const auto& e : zooModels()) known += (known.empty() ? "" : ", ") + e.name;
    throw Error("model '" + name + "'", "not a built-in model (known: " + known + ")");
  }
  const int64_t classes = options.numClasses > 0 ? options.numClasses : entry->defaultClasses;
  const int64_t inC = options.inChannels;
  if (inC <= 0) throw Error("model '" + name + "'", "input channels must be positive");
  at::manual_seed(options.seed);

  Graph g;
  if (name == "resnet18") g = zoo::torchvisionResNet(18, classes, inC);
  else if (name == "resnet34") g = zoo::torchvisionResNet(34, classes, inC);
  else if (name == "resnet20") g = zoo::cifarResNet(20, classes, inC);
  else if (name == "resnet56") g = zoo::cifarResNet(56, classes, inC);
  else if (name == "vgg11_bn") g = zoo::cifarVggBn(11, classes, inC);
  else if (name == "vgg16_bn") g = zoo::cifarVggBn(16, classes, inC);
  else g = zoo::mobileNetV2(classes, inC);

  Shape input = entry->defaultInput;
  input[0] = inC;
  g.metadata()["model"] = name;
  g.metadata()["num_classes"] = std::to_string(classes);
  g.metadata()["input"] = shapeToString(input);
  g.metadata()["task"] = "classify";
  return g;
}

}  // namespace prunelab
