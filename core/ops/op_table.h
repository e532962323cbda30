#pragma once
// The op table: for each OpKind, in one place, everything the rest of PruneLab needs
// to know about it - what it computes, its shapes, cost and channel rule, what kind of op
// it is (traits read by pruning, importance and the GUI instead of lists of kinds), and
// its ONNX and TorchScript forms. Adding an op means adding its name to
// PRUNELAB_OP_KINDS (graph/op_kind.h) and one OpSpec entry, with its ONNX import
// converters, in a family file ops/*_ops.cpp - no switch statements elsewhere.
// tests/unit/test_op_completeness checks every kind has every form.
//
// Shapes include the batch dimension. Costs are per sample (batch 1).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

// A differentiable sum of a tensor over the ranks of a data-parallel group (its backward
// sums the gradient likewise): how BatchNorm becomes SyncBatchNorm. See
// distributed/sync_batch_norm.h.
using CrossReplicaSum = std::function<at::Tensor(const at::Tensor&)>;

struct OpContext {
  bool training = false;
  // Training only: BatchNorm normalises with its running statistics and leaves them
  // alone (gamma and beta still train), as a model with its BN layers in eval().
  bool frozenBatchNorm = false;
  // Training only, when set: BatchNorm uses the batch statistics of all ranks (SyncBN).
  const CrossReplicaSum* crossReplicaSum = nullptr;
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
  Undeclared,   // the OpSpec default: treated as Pin, but the completeness test rejects it
};

// Which dims of a tensor are indexed by channels: `outDim` by the channels of output 0,
// `inDim` by those of input 0 (-1: none). An op declares one entry per channel-indexed
// tensor (OpSpec::layout); surgery slices these dims, the what-if estimate scales their
// sizes, and everything that reads a weight by channel asks for them instead of assuming
// [O, I, ...]. Ops without tensors list nothing.
struct TensorChannelDims {
  std::string tensor;
  int outDim = -1;
  int inDim = -1;
};

// How a node's output channels read its input channels (grouped convolution).
enum class ChannelGrouping {
  Dense,      // every output channel reads every input channel (groups == 1, or no groups)
  Depthwise,  // output channel c reads input channel c alone: one channel space through
              // the op, so only the out dims are sliced (the in dim has one entry per group)
  Grouped,    // other groups: channels are tied per group; pinned, never sliced
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
using GroupingFn = ChannelGrouping (*)(const Node&);
// Updates attributes that record channel counts (Split sizes, Conv groups) after
// surgery; `keptOut[i]` is the number of channels kept in output i.
using ResizeAttrsFn = void (*)(Node&, const std::vector<int64_t>& keptIn, const std::vector<int64_t>& keptOut);

// How a per-channel constant maps through the op. Surgery folds the constant a removed
// channel still carries (its BN's beta when gamma ~ 0) into the next Conv/Linear's bias;
// it asks the producer of the pruned value what channel `channel` of output 0 holds.
// `input(i, c)` is the constant on channel c of input i (nullopt: not one constant).
struct ConstantQuery {
  const Graph& graph;
  const Node& node;
  int64_t channel;
  std::function<std::optional<double>(size_t input, int64_t channel)> input;
};
// nullopt when the channel is not one constant over the whole map (the search ends).
using ConstantFn = std::optional<double> (*)(const ConstantQuery&);

// The op's interop forms (ops/onnx_emitter.h, ops/torchscript_emitter.h,
// ops/onnx_import_context.h hold the interfaces; io/onnx_export, io/torchscript_export and
// io/onnx_import are the drivers that walk a graph or a file and call them).
class OnnxEmitter;
class ScriptEmitter;
class OnnxImportContext;
class OnnxNodeView;
// Writes the ONNX nodes for one IR node (several for composite forms: SiLU below opset 14).
using OnnxExportFn = void (*)(OnnxEmitter&, const Node&);
// Writes the TorchScript statements for one IR node.
using TorchScriptFn = void (*)(ScriptEmitter&, const Node&);
// Maps one ONNX node (by ONNX op type) onto IR nodes.
using OnnxImportFn = void (*)(OnnxImportContext&, const OnnxNodeView&);

struct OpSpec {
  OpKind kind = OpKind::Identity;
  int minInputs = 1;
  int maxInputs = 1;  // -1: variadic
  ForwardFn forward = nullptr;
  ShapeFn inferShapes = nullptr;
  MacsPerElementFn macsPerElement = nullptr;  // nullptr: zero (elementwise and data movement)
  // True when the op does nothing countable (elementwise, data movement): then
  // macsPerElement stays nullptr. Said explicitly so a forgotten cost rule is an error.
  bool zeroCost = false;
  ChannelRule channelRule = ChannelRule::Undeclared;
  // True when the output is a freshly allocated tensor (not a view of an input) that the
  // op's backward does not need: a single consumer may then overwrite it in place.
  bool outputReusable = false;
  // True when forward can work in place on its first input (OpContext::mayReuseInput).
  bool canRunInPlace = false;
  // True for inference post-processing (YOLO decode): skipped in training mode, where
  // its outputs stay undefined (the losses read the raw outputs, as in ultralytics).
  bool inferenceOnly = false;
  // --- channel layout ------------------------------------------------------------------
  // Every channel-indexed tensor of the op and its dims, the same for every node of the
  // kind (a node may lack an optional tensor: a bias). Conv: weight [O, I/groups, kh, kw]
  // is {"weight", 0, 1}; a transposed conv, weight [I, O/groups, kh, kw], would declare
  // {"weight", 1, 0}. For grouped ops the in dim indexes the input channels within a group.
  std::vector<TensorChannelDims> layout;
  // How output channels read input channels on a given node; nullptr: Dense. Which of
  // `layout`'s dims surgery slices follows from it (slicedChannelDims below).
  GroupingFn grouping = nullptr;
  ResizeAttrsFn resizeAttrs = nullptr;  // nullptr: no channel-count attributes

  // --- what kind of op it is -------------------------------------------------------------
  // Creates a new channel space from its tensor "weight", whose layout has both an out and
  // an in dim (Conv, Linear): the prunable channels' sources, whose weight slices along
  // the in dim take removed constants (surgery's beta fold).
  bool isChannelSource = false;
  // A per-channel normalisation with an affine scale (gamma) and shift (beta): the names
  // of those tensors, each [C] and indexed by channel (BatchNorm: "weight" and "bias").
  // Empty when the op is not one. Network Slimming's L1 penalty, the gamma statistics and
  // the `bn` criterion read the scale; surgery's beta fold reads the shift (constantFn).
  // A node may lack them (affine=False): use hasNormScale().
  std::string normScale;
  std::string normShift;
  // A pointwise nonlinearity: its outputs stand for a group in activation statistics.
  bool isActivation = false;
  // Output element i depends only on input element(s) i (activations, broadcasting
  // arithmetic).
  bool isElementwise = false;
  ConstantFn constantFn = nullptr;  // nullptr: a channel's constant does not survive the op

  // A composite op (the YOLO decode): no forward, ONNX or TorchScript form of its own; the
  // executor and the exporters run and write the primitive fragment of its lowering pass
  // (passes/lowering.h). Its shape and channel rules still describe the node as a whole.
  bool lowered = false;

  // --- interop forms -----------------------------------------------------------------------
  OnnxExportFn onnxExport = nullptr;
  TorchScriptFn torchScript = nullptr;
};

const OpSpec& opSpec(OpKind kind);

// --- layout queries: what the rest of PruneLab asks instead of assuming a layout ---------
// The dim of `tensor` indexed by output 0's channels / input 0's channels in the kind's
// declared layout, or -1 when that tensor has no such dim (or is not declared).
int outChannelDim(OpKind kind, const std::string& tensor);
int inChannelDim(OpKind kind, const std::string& tensor);
// `t` (a tensor of an op of `kind` named `tensor`, both channel dims declared) with its
// out dim moved to 0 and its in dim to 1: [O, I, ...] whatever the op stores. The inverse
// is fromOutInLayout. Views, no copies.
at::Tensor toOutInLayout(OpKind kind, const std::string& tensor, const at::Tensor& t);
at::Tensor fromOutInLayout(OpKind kind, const std::string& tensor, const at::Tensor& outIn);
// A [C] per-output-channel vector shaped to broadcast against `tensor` of `kind`
// (C along its out dim, 1 elsewhere): how a per-channel scale multiplies a weight.
std::vector<int64_t> outChannelBroadcastShape(OpKind kind, const std::string& tensor, int64_t rank);
// The node's grouping (OpSpec::grouping; Dense when the op has none).
ChannelGrouping channelGrouping(const Node& n);
// The dims surgery slices on `n` (decided on the unpruned node): the layout entries of
// the tensors `n` has; a depthwise node's without in dims; none for a Grouped node.
std::vector<TensorChannelDims> slicedChannelDims(const Node& n);
// A channel normalisation (OpSpec::normScale declared).
bool isChannelNorm(OpKind kind);
// A channel normalisation node that has its scale tensor (so its gamma can be read).
bool hasNormScale(const Node& n);
// True when `tensor` is the scale (gamma) of a channel normalisation of `kind`.
bool isNormScale(OpKind kind, const std::string& tensor);
// The names of the kind's gamma and beta tensors ("" when not a channel normalisation).
const std::string& normScale(OpKind kind);
const std::string& normShift(OpKind kind);

// ONNX import converters keyed by ONNX op type ("Conv", "Gemm", "Clip"...), filled by the
// families next to the IR op they produce; nullptr for a type no family converts.
OnnxImportFn onnxImporter(const std::string& onnxOpType);
std::vector<std::string> onnxImportTypes();

// What a family file adds to the table.
struct OpRegistry {
  std::vector<OpSpec> specs;
  std::vector<std::pair<std::string, OnnxImportFn>> onnxImports;
  void add(const OpSpec& spec) { specs.push_back(spec); }
  void addOnnxImport(const std::string& onnxOpType, OnnxImportFn fn) { onnxImports.emplace_back(onnxOpType, fn); }
};

// True when `out` is `in` = [N, C, H, W] flattened to [N, C*H*W] (row-major), whichever op
// does it: Flatten(start_dim 1) or a Reshape such as PyTorch's x.view(x.size(0), -1).
bool flattensChannels(const Shape& in, const Shape& out);

// Family registration functions, called once by op_table.cpp.
namespace ops {
void addConvOps(OpRegistry& r);
void addNormOps(OpRegistry& r);
void addActivationOps(OpRegistry& r);
void addElementwiseOps(OpRegistry& r);
void addPoolOps(OpRegistry& r);
void addShapeOps(OpRegistry& r);
void addLinearOps(OpRegistry& r);
void addTensorOps(OpRegistry& r);
void addDetectOps(OpRegistry& r);

// Helpers shared by the family files.
void expectRank(const Node& n, const Shape& s, size_t rank);
// A 2-D window attribute (kernel, stride, padding, dilation) as files and YAML give it,
// checked where the family's shape rule reads it: exactly two integers, each >= `min`
// (a stride of 0 divides by zero, a negative padding or a huge kernel is a lie). Throws
// prunelab::Error naming the node, the attribute and the values.
std::vector<int64_t> windowAttr(const Node& n, const char* name, std::vector<int64_t> fallback, int64_t min);
std::vector<Shape> sameShapeAsInput(const Node& n, const std::vector<Shape>& in);
// ConstantFn of ops that keep each channel's value where it is (identity, max pooling,
// global averaging, nearest upsampling).
std::optional<double> constantPassesThrough(const ConstantQuery& q);
// ConstantFn of Flatten and Reshape: follows the channel when the op flattens [N,C,H,W]
// to [N,C*H*W] (flattensChannels), else ends the search.
std::optional<double> flattenConstant(const ConstantQuery& q);
}  // namespace ops

}  // namespace prunelab
