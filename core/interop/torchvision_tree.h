#pragma once
// A torchvision.models.resnet.ResNet object tree for the zoo's BasicBlock ResNets, pruned
// or not: torchvision's ResNet-18/34 as they are, and the CIFAR ResNet-20/56, which a
// torchvision ResNet expresses exactly (3x3 stem, maxpool an nn.Identity, layer4 an empty
// nn.Sequential, which returns its input). BasicBlock.forward reads no width attribute,
// so pruned widths only need each leaf's own attributes right.

#include "graph/graph.h"
#include "io/pickle_reader.h"

namespace prunelab {

// True when `graph` has the scopes of such a ResNet (conv1, bn1, layer1.0.conv1, fc).
bool isTorchvisionResNetLayout(const Graph& graph);
// Throws prunelab::Error naming the missing scope when it is not one.
PyRef torchvisionResNetTree(const Graph& graph);

}  // namespace prunelab
