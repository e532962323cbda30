// torchvision ResNet-18/34 and CIFAR ResNet-20/56 (BasicBlock networks).

#include "models/graph_builder.h"
#include "models/zoo.h"

namespace prunelab::zoo {

namespace {

// torchvision BasicBlock: conv1-bn1-relu-conv2-bn2 (+ downsample) -> add -> relu.
// The block's single `relu` module is applied twice; both nodes share its scope.
ValueId basicBlock(GraphBuilder& b, ValueId x, const std::string& p, int64_t planes, int64_t stride) {
  ValueId y = b.conv(x, p + ".conv1", planes, 3, stride, 1);
  y = b.batchNorm(y, p + ".bn1");
  y = b.act(OpKind::ReLU, y, p + ".relu");
  y = b.conv(y, p + ".conv2", planes, 3, 1, 1);
  y = b.batchNorm(y, p + ".bn2");
  ValueId identity = x;
  if (stride != 1 || b.channels(x) != planes) {
    identity = b.conv(x, p + ".downsample.0", planes, 1, stride, 0);
    identity = b.batchNorm(identity, p + ".downsample.1");
  }
  ValueId sum = b.add(y, identity, p + ".add");
  return b.act(OpKind::ReLU, sum, p + ".relu");
}

ValueId stage(GraphBuilder& b, ValueId x, const std::string& name, int64_t planes, int blocks, int64_t stride) {
  for (int i = 0; i < blocks; ++i) x = basicBlock(b, x, name + "." + std::to_string(i), planes, i == 0 ? stride : 1);
  return x;
}

ValueId head(GraphBuilder& b, ValueId x, int64_t numClasses) {
  x = b.globalAvgPool(x, "avgpool");
  x = b.flatten(x, "flatten");
  return b.linear(x, "fc", numClasses);
}

}  // namespace

Graph torchvisionResNet(int depth, int64_t numClasses, int64_t inChannels) {
  const std::vector<int> blocks = depth == 18 ? std::vector<int>{2, 2, 2, 2} : std::vector<int>{3, 4, 6, 3};
  Graph g;
  GraphBuilder b(g);
  ValueId x = b.input("input", {inChannels, 224, 224});
  x = b.conv(x, "conv1", 64, 7, 2, 3);
  x = b.batchNorm(x, "bn1");
  x = b.act(OpKind::ReLU, x, "relu");
  x = b.maxPool(x, "maxpool", 3, 2, 1);
  x = stage(b, x, "layer1", 64, blocks[0], 1);
  x = stage(b, x, "layer2", 128, blocks[1], 2);
  x = stage(b, x, "layer3", 256, blocks[2], 2);
  x = stage(b, x, "layer4", 512, blocks[3], 2);
  b.output(head(b, x, numClasses));
  return g;
}

Graph cifarResNet(int depth, int64_t numClasses, int64_t inChannels) {
  const int n = (depth - 2) / 6;  // blocks per stage: 3 for ResNet-20, 9 for ResNet-56
  Graph g;
  GraphBuilder b(g);
  ValueId x = b.input("input", {inChannels, 32, 32});
  x = b.conv(x, "conv1", 16, 3, 1, 1);
  x = b.batchNorm(x, "bn1");
  x = b.act(OpKind::ReLU, x, "relu");
  x = stage(b, x, "layer1", 16, n, 1);
  x = stage(b, x, "layer2", 32, n, 2);
  x = stage(b, x, "layer3", 64, n, 2);
  b.output(head(b, x, numClasses));
  return g;
}

}  // namespace prunelab::zoo
