#pragma once
// The primitive operations of the IR (close to ONNX). Everything an op *does*
// (forward, shapes, cost, channel rule, its ONNX and TorchScript forms) lives in its
// OpSpec entry in ops/op_table.

#include <string>

namespace prunelab {

// The one list of op kinds: the enum and the names stored in checkpoints both come from
// it, so they cannot drift apart. Append only: a name's position is never stored, but
// its spelling is (native checkpoints, graph JSON, ONNX tags) - renaming breaks old files.
#define PRUNELAB_OP_KINDS(X)                                                                       \
  X(Conv)          /* weight [O, I/groups, kh, kw], optional bias [O] */                          \
  X(BatchNorm)     /* weight, bias [C]; buffers running_mean, running_var, num_batches_tracked */ \
  X(ReLU)                                                                                          \
  X(ReLU6)                                                                                         \
  X(SiLU)                                                                                          \
  X(LeakyReLU)     /* attr negative_slope */                                                       \
  X(Sigmoid)                                                                                       \
  X(Hardswish)                                                                                     \
  X(Add)           /* elementwise, broadcasting */                                                 \
  X(Mul)           /* elementwise, broadcasting */                                                 \
  X(Concat)        /* attr axis */                                                                 \
  X(Split)         /* attrs axis, split (sizes); one output per size */                           \
  X(MaxPool)       /* attrs kernel, stride, padding, dilation, ceil_mode */                       \
  X(AvgPool)       /* attrs kernel, stride, padding, ceil_mode, count_include_pad */              \
  X(GlobalAvgPool) /* N,C,H,W -> N,C,1,1 */                                                        \
  X(Upsample)      /* nearest; attr scale (float, same for H and W) */                            \
  X(Flatten)       /* attr start_dim (default 1) */                                                \
  X(Linear)        /* weight [O, I], optional bias [O] */                                          \
  X(Dropout)       /* attr p; identity in eval */                                                  \
  X(Identity)                                                                                      \
  X(Reshape)       /* attr shape: 0 copies the input dim, -1 is inferred (ONNX semantics) */      \
  X(Transpose)     /* attr perm */                                                                 \
  X(MatMul)        /* batched matrix product; optional attr alpha scales the result */            \
  X(Softmax)       /* attr axis */                                                                 \
  X(Unflatten)     /* attrs dim, sizes: splits one dim into several (YOLOv5 head view) */         \
  X(DetectDecode)  /* YOLO inference decode of the raw head outputs (attrs: style, strides...) */ \
  X(Constant)      /* no inputs; buffer "value" (a fixed tensor, no batch dim) - ONNX import */   \
  X(Sub)           /* elementwise, broadcasting */                                                 \
  X(Div)           /* elementwise, broadcasting */                                                 \
  X(Pow)           /* elementwise, broadcasting */                                                 \
  X(Slice)         /* attrs axes, starts, ends, steps (ONNX semantics, ends clamped) */

enum class OpKind {
#define PRUNELAB_OP_ENUM(name) name,
  PRUNELAB_OP_KINDS(PRUNELAB_OP_ENUM)
#undef PRUNELAB_OP_ENUM
};

inline constexpr int kOpKindCount = 0
#define PRUNELAB_OP_COUNT(name) +1
    PRUNELAB_OP_KINDS(PRUNELAB_OP_COUNT)
#undef PRUNELAB_OP_COUNT
    ;

// Stable names, used in native checkpoints and JSON: the enum identifier itself.
const char* opKindName(OpKind kind);
// Throws prunelab::Error for an unknown name.
OpKind opKindFromName(const std::string& name);

}  // namespace prunelab
