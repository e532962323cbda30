#include "interop/torchvision_tree.h"

#include "interop/torch_modules.h"
#include "io/py_tree.h"
#include "util/error.h"

namespace prunelab {

namespace {

const Node* nodeAt(const Graph& g, const std::string& scope, OpKind op) {
  for (const Node& n : g.nodes())
    if (n.scope == scope && n.op == op) return &n;
  return nullptr;
}

const Node& need(const Graph& g, const std::string& scope, OpKind op) {
  if (const Node* n = nodeAt(g, scope, op)) return *n;
  throw Error(scope, std::string("the torchvision ResNet layout needs a ") + opKindName(op) + " here");
}

PyRef basicBlock(const Graph& g, const std::string& p) {
  PyRef b = pyModule("torchvision.models.resnet.BasicBlock");
  const Node& conv1 = need(g, p + ".conv1", OpKind::Conv);
  addChild(b, "conv1", torchConv2d(conv1));
  addChild(b, "bn1", torchBatchNorm2d(need(g, p + ".bn1", OpKind::BatchNorm)));
  addChild(b, "relu", torchReLU(true));
  addChild(b, "conv2", torchConv2d(need(g, p + ".conv2", OpKind::Conv)));
  addChild(b, "bn2", torchBatchNorm2d(need(g, p + ".bn2", OpKind::BatchNorm)));
  if (const Node* down = nodeAt(g, p + ".downsample.0", OpKind::Conv)) {
    PyRef seq = torchSequential();
    addChild(seq, "0", torchConv2d(*down));
    addChild(seq, "1", torchBatchNorm2d(need(g, p + ".downsample.1", OpKind::BatchNorm)));
    addChild(b, "downsample", seq);
  } else {
    addChild(b, "downsample", nullptr);
  }
  setModuleAttr(b, "stride", pyInt(conv1.attrs.getInts("stride", {1, 1}).at(0)));
  return b;
}

}  // namespace

bool isTorchvisionResNetLayout(const Graph& g) {
  return nodeAt(g, "conv1", OpKind::Conv) && nodeAt(g, "bn1", OpKind::BatchNorm) &&
         nodeAt(g, "layer1.0.conv1", OpKind::Conv) && nodeAt(g, "layer1.0.conv2", OpKind::Conv) &&
         nodeAt(g, "fc", OpKind::Linear) && !nodeAt(g, "layer1.0.conv3", OpKind::Conv);
}

PyRef torchvisionResNetTree(const Graph& g) {
  if (!isTorchvisionResNetLayout(g))
    throw Error(g.metadata().count("model") ? g.metadata().at("model") : "model",
                "is not a BasicBlock ResNet (conv1, bn1, layer1.0.conv1/conv2, fc): no torchvision class to write it as");
  PyRef net = pyModule("torchvision.models.resnet.ResNet");
  setModuleAttr(net, "_norm_layer", pyGlobal("torch.nn.modules.batchnorm.BatchNorm2d"));
  int64_t lastWidth = 64;
  addChild(net, "conv1", torchConv2d(need(g, "conv1", OpKind::Conv)));
  addChild(net, "bn1", torchBatchNorm2d(need(g, "bn1", OpKind::BatchNorm)));
  addChild(net, "relu", torchReLU(true));
  if (const Node* pool = nodeAt(g, "maxpool", OpKind::MaxPool)) addChild(net, "maxpool", torchMaxPool2d(*pool));
  else addChild(net, "maxpool", torchIdentity());
  for (int layer = 1; layer <= 4; ++layer) {
    const std::string name = "layer" + std::to_string(layer);
    PyRef seq = torchSequential();
    for (int i = 0; nodeAt(g, name + "." + std::to_string(i) + ".conv1", OpKind::Conv); ++i) {
      const std::string p = name + "." + std::to_string(i);
      addChild(seq, std::to_string(i), basicBlock(g, p));
      lastWidth = need(g, p + ".conv2", OpKind::Conv).tensor("weight").size(0);
    }
    addChild(net, name, seq);  // an absent layer4 (CIFAR) stays an empty Sequential: identity
  }
  addChild(net, "avgpool", torchAdaptiveAvgPool2d(1));
  addChild(net, "fc", torchLinear(need(g, "fc", OpKind::Linear)));
  setModuleAttr(net, "inplanes", pyInt(lastWidth));
  setModuleAttr(net, "dilation", pyInt(1));
  setModuleAttr(net, "groups", pyInt(1));
  setModuleAttr(net, "base_width", pyInt(64));
  return net;
}

}  // namespace prunelab
