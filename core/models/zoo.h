#pragma once
// The built-in model zoo. Module names equal the PyTorch originals' state_dict keys:
//   resnet18, resnet34        torchvision.models.resnet18/34 (num_classes)
//   resnet20, resnet56        CIFAR ResNets, 16/32/64 channels, 1x1 conv+BN projection
//                             shortcuts named "downsample" (as chenyaofo/pytorch-cifar-models)
//   vgg11_bn, vgg16_bn        CIFAR VGG with BN: features.*, classifier 512-512-num_classes
//                             (as chenyaofo/pytorch-cifar-models)
//   mobilenet_v2              torchvision.models.mobilenet_v2 (width 1.0, num_classes)

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct ZooOptions {
  int64_t numClasses = -1;   // -1: the model's default (1000 torchvision, 10 CIFAR)
  int64_t inChannels = 3;    // 1 for grayscale data such as Fashion-MNIST
  uint64_t seed = 0;         // weight initialisation
};

struct ZooEntry {
  std::string name;
  std::string description;
  int64_t defaultClasses;
  Shape defaultInput;  // C x H x W
};

const std::vector<ZooEntry>& zooModels();
bool isZooModel(const std::string& name);
// Throws prunelab::Error listing the known names for an unknown one.
Graph buildZooModel(const std::string& name, const ZooOptions& options = {});

// The builders behind the table (models/*.cpp).
namespace zoo {
Graph torchvisionResNet(int depth, int64_t numClasses, int64_t inChannels);
Graph cifarResNet(int depth, int64_t numClasses, int64_t inChannels);
Graph cifarVggBn(int depth, int64_t numClasses, int64_t inChannels);
Graph mobileNetV2(int64_t numClasses, int64_t inChannels);
}  // namespace zoo

}  // namespace prunelab
