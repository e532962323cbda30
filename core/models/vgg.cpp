// CIFAR VGG-11/16 with BatchNorm (layout of chenyaofo/pytorch-cifar-models):
// features = [conv3x3(bias) - BN - ReLU | MaxPool2d(2)]*, classifier = Linear(512,512) -
// ReLU - Dropout - Linear(512,512) - ReLU - Dropout - Linear(512,num_classes).

#include "models/graph_builder.h"
#include "models/zoo.h"

namespace prunelab::zoo {

Graph cifarVggBn(int depth, int64_t numClasses, int64_t inChannels) {
  constexpr int M = 0;  // max pool
  const std::vector<int> cfg11 = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
  const std::vector<int> cfg16 = {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
  const auto& cfg = depth == 11 ? cfg11 : cfg16;

  Graph g;
  GraphBuilder b(g, LinearInit::Normal001);
  ValueId x = b.input("input", {inChannels, 32, 32});
  int index = 0;  // position in nn.Sequential `features`
  auto name = [&](int i) { return "features." + std::to_string(i); };
  for (int v : cfg) {
    if (v == M) {
      x = b.maxPool(x, name(index++), 2, 2);
      continue;
    }
    x = b.conv(x, name(index++), v, 3, 1, 1, 1, /*bias=*/true);
    x = b.batchNorm(x, name(index++));
    x = b.act(OpKind::ReLU, x, name(index++));
  }
  x = b.flatten(x, "flatten");
  x = b.linear(x, "classifier.0", 512);
  x = b.act(OpKind::ReLU, x, "classifier.1");
  x = b.dropout(x, "classifier.2", 0.5);
  x = b.linear(x, "classifier.3", 512);
  x = b.act(OpKind::ReLU, x, "classifier.4");
  x = b.dropout(x, "classifier.5", 0.5);
  b.output(b.linear(x, "classifier.6", numClasses));
  return g;
}

}  // namespace prunelab::zoo
