#pragma once
// The op table: for each OpKind, in one place, everything the rest of PruneLab needs
// to know about it. Adding an op means adding one OpSpec entry (in the family file
// ops/*_ops.cpp) and naming it in op_table.cpp - no switch statements elsewhere.
//
// Shapes include the batch dimension. Costs are per sample (batch 1).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

struct OpContext {
  bool training = false;
  // The op may overwrite its first input in place (the executor proves that no one
  // else reads it and that its producer's backward does not need it).
  bool mayReuseInput = false;
};

// How channels (dim 1) flow through the op; the dependency analysis is built on it.
enum class ChannelRule {
  PassThrough,  // out channel c == in channel c (BN, activations, pooling, upsample)
  TieInputs,    // elementwise: all inputs and the output share channel indices (Add, Mul)
  Concat,       // out channels are the inputs' channels at offsets (axis 1)
  Split,        // outputs are slices of the input's channels (axis 1)
  Conv,         // in and out channels are separate spaces, tied when depthwise/grouped
  Linear,       // in features and out features are separate spaces
  Flatten,      // in channel c -> features [c*HW, (c+1)*HW) when flattensChannels(), else pinned
  Pin,          // unknown mapping: channels through it can't be pruned
};

// Which dims of a node's tensor are indexed by channels: `outDim` by the channels of
// output 0, `inDim` by those of input 0 (-1: none). Surgery slices these dims; the
// what-if estimate scales these dims' sizes. Ops without tensors list nothing.
struct TensorChannelDims {
  std::string tensor;
  int outDim = -1;
  int inDim = -1;
};

using ForwardFn = std::vector<at::Tensor> (*)(const Node&, const std::vector<at::Tensor>&, const OpContext&);
using ShapeFn = std::vector<Shape> (*)(const Node&, const std::vector<Shape>&);
// How multiply-accumulates are counted (see analysis/cost.h).
enum class MacsConvention {
  TorchInfo,  // torchinfo's Mult-Adds: weights and biases x output positions; BN = its params
  FoldedBn,   // the deployed model: weights and biases x positions; BN = 1 per output element
              // (the multiply-add it becomes when folded into the conv)
};
// MACs per element of one of the node's tensors; a node's MACs are the sum over its
// tensors of numel x this factor. Channel pruning changes numels, never the factors,
// which is what makes the what-if estimate exact.
using MacsPerElementFn = int64_t (*)(const Node&, const NamedTensor&, const std::vector<Shape>& in,
                                     const std::vector<Shape>& out, MacsConvention);
using ChannelDimsFn = std::vector<TensorChannelDims> (*)(const Node&);
// Updates attributes that record channel counts (Split sizes, Conv groups) after
// surgery; `keptOut[i]` is the number of channels kept in output i.
using ResizeAttrsFn = void (*)(Node&, const std::vector<int64_t>& keptIn, const std::vector<int64_t>& keptOut);

struct OpSpec {
  OpKind kind = OpKind::Identity;
  int minInputs = 1;
  int maxInputs = 1;  // -1: variadic
  ForwardFn forward = nullptr;
  ShapeFn inferShapes = nullptr;
  MacsPerElementFn macsPerElement = nullptr;  // nullptr: zero (elementwise and data movement)
  ChannelRule channelRule = ChannelRule::Pin;
  // True when the output is a freshly allocated tensor (not a view of an input) that the
  // op's backward does not need: a single consumer may then overwrite it in place.
  bool outputReusable = false;
  // True when forward can work in place on its first input (OpContext::mayReuseInput).
  bool canRunInPlace = false;
  // True for inference post-processing (YOLO decode): skipped in training mode, where
  // its outputs stay undefined (the losses read the raw outputs, as in ultralytics).
  bool inferenceOnly = false;
  ChannelDimsFn channelDims = nullptr;  // nullptr: no channel-indexed tensors
  ResizeAttrsFn resizeAttrs = nullptr;  // nullptr: no channel-count attributes
};

const OpSpec& opSpec(OpKind kind);

// True when `out` is `in` = [N, C, H, W] flattened to [N, C*H*W] (row-major), whichever op
// does it: Flatten(start_dim 1) or a Reshape such as PyTorch's x.view(x.size(0), -1).
bool flattensChannels(const Shape& in, const Shape& out);

// Family registration functions, called once by op_table.cpp.
namespace ops {
void addConvOps(std::vector<OpSpec>& table);
void addNormOps(std::vector<OpSpec>& table);
void addActivationOps(std::vector<OpSpec>& table);
void addElementwiseOps(std::vector<OpSpec>& table);
void addPoolOps(std::vector<OpSpec>& table);
void addShapeOps(std::vector<OpSpec>& table);
void addLinearOps(std::vector<OpSpec>& table);
void addTensorOps(std::vector<OpSpec>& table);
void addDetectOps(std::vector<OpSpec>& table);

// Helpers shared by the family files.
void expectRank(const Node& n, const Shape& s, size_t rank);
std::vector<Shape> sameShapeAsInput(const Node& n, const std::vector<Shape>& in);
}  // namespace ops

}  // namespace prunelab
