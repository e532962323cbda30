#pragma once
// torch.nn leaf modules as value trees (io/py_tree.h), laid out as PyTorch 1.13 pickles
// them, made from Graph nodes: what a synthesised checkpoint (interop/torchvision_tree.h)
// is built from, and the width attributes that a written-back tree must agree with.

#include <string>

#include "graph/graph.h"
#include "io/pickle_reader.h"

namespace prunelab {

PyRef torchConv2d(const Node& conv);        // torch.nn.modules.conv.Conv2d
PyRef torchBatchNorm2d(const Node& bn);     // torch.nn.modules.batchnorm.BatchNorm2d
PyRef torchLinear(const Node& linear);      // torch.nn.modules.linear.Linear
PyRef torchReLU(bool inplace);              // torch.nn.modules.activation.ReLU
PyRef torchMaxPool2d(const Node& pool);     // torch.nn.modules.pooling.MaxPool2d
PyRef torchAdaptiveAvgPool2d(int64_t size); // torch.nn.modules.pooling.AdaptiveAvgPool2d((size, size))
PyRef torchIdentity();                      // torch.nn.modules.linear.Identity
PyRef torchSequential();                    // torch.nn.modules.container.Sequential (add children)

// Sets a written-back leaf's width attributes from its tensors (`node` gives groups):
// Conv2d in/out_channels and groups, BatchNorm num_features, Linear in/out_features.
// Returns false when `module` is none of those classes.
bool updateLeafWidths(const PyRef& module, const Node* node);
// The disagreements of a leaf's width attributes with its tensors, prefixed by `path`.
void checkLeafWidths(const std::string& path, const PyRef& module, std::vector<std::string>& problems);

}  // namespace prunelab
