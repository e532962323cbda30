#include "graph/op_kind.h"

#include <array>

#include "util/error.h"

namespace prunelab {

namespace {
constexpr std::array<const char*, kOpKindCount> kNames = {
    "Conv",    "BatchNorm", "ReLU",    "ReLU6",         "SiLU",     "LeakyReLU", "Sigmoid",
    "Hardswish", "Add",     "Mul",     "Concat",        "Split",    "MaxPool",   "AvgPool",
    "GlobalAvgPool", "Upsample", "Flatten", "Linear",   "Dropout",  "Identity",  "Reshape",
    "Transpose", "MatMul",   "Softmax",   "Unflatten", "DetectDecode",
    "Constant",  "Sub",      "Div",       "Pow",       "Slice"};
}

const char* opKindName(OpKind kind) { return kNames.at(static_cast<size_t>(kind)); }

OpKind opKindFromName(const std::string& name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return static_cast<OpKind>(i);
  throw Error("op '" + name + "'", "unknown op kind");
}

}  // namespace prunelab
