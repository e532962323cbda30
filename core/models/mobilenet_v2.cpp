// torchvision MobileNetV2, width 1.0: Conv2dNormActivation blocks named "<i>.0" (conv),
// "<i>.1" (BN), InvertedResidual blocks "features.<i>.conv.<j>", classifier.{0,1}.

#include "models/graph_builder.h"
#include "models/zoo.h"

namespace prunelab::zoo {

namespace {

// Conv2dNormActivation(..., activation_layer=ReLU6) as children <p>.0/.1/.2
ValueId convBnRelu6(GraphBuilder& b, ValueId x, const std::string& p, int64_t out, int64_t k, int64_t stride,
                    int64_t groups) {
  x = b.conv(x, p + ".0", out, k, stride, (k - 1) / 2, groups);
  x = b.batchNorm(x, p + ".1");
  return b.act(OpKind::ReLU6, x, p + ".2");
}

ValueId invertedResidual(GraphBuilder& b, ValueId x, const std::string& p, int64_t out, int64_t stride,
                         int64_t expand) {
  const int64_t in = b.channels(x);
  const int64_t hidden = in * expand;
  int j = 0;
  ValueId y = x;
  if (expand != 1) y = convBnRelu6(b, y, p + ".conv." + std::to_string(j++), hidden, 1, 1, 1);
  y = convBnRelu6(b, y, p + ".conv." + std::to_string(j++), hidden, 3, stride, hidden);
  y = b.conv(y, p + ".conv." + std::to_string(j++), out, 1, 1, 0);
  y = b.batchNorm(y, p + ".conv." + std::to_string(j++));
  if (stride == 1 && in == out) y = b.add(x, y, p + ".add");
  return y;
}

}  // namespace

Graph mobileNetV2(int64_t numClasses, int64_t inChannels) {
  struct Setting { int64_t t, c, n, s; };
  const std::vector<Setting> settings = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                                         {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  Graph g;
  GraphBuilder b(g, LinearInit::Normal001);
  ValueId x = b.input("input", {inChannels, 224, 224});
  int index = 0;
  x = convBnRelu6(b, x, "features." + std::to_string(index++), 32, 3, 2, 1);
  for (const auto& s : settings)
    for (int64_t i = 0; i < s.n; ++i)
      x = invertedResidual(b, x, "features." + std::to_string(index++), s.c, i == 0 ? s.s : 1, s.t);
  x = convBnRelu6(b, x, "features." + std::to_string(index++), 1280, 1, 1, 1);
  x = b.globalAvgPool(x, "avgpool");
  x = b.flatten(x, "flatten");
  x = b.dropout(x, "classifier.0", 0.2);
  b.output(b.linear(x, "classifier.1", numClasses));
  return g;
}

}  // namespace prunelab::zoo
