#include "graph/op_kind.h"

#include <array>

#include "util/error.h"

namespace prunelab {

namespace {
constexpr std::array<const char*, kOpKindCount> kNames = {
#define PRUNELAB_OP_NAME(name) #name,
    PRUNELAB_OP_KINDS(PRUNELAB_OP_NAME)
#undef PRUNELAB_OP_NAME
};
}  // namespace

const char* opKindName(OpKind kind) { return kNames.at(static_cast<size_t>(kind)); }

OpKind opKindFromName(const std::string& name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (name == kNames[i]) return static_cast<OpKind>(i);
  throw Error("op '" + name + "'", "unknown op kind");
}

}  // namespace prunelab
