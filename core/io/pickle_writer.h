#pragma once
// Writes a value tree (io/pickle_reader.h's PyValue) back as a pickle that Python's own
// unpickler turns into the objects the tree describes: the inverse of unpickleTorch for
// what torch.save() writes. Protocol 2, as torch.save uses by default.
//
// - Objects keep how they were made (NEWOBJ or REDUCE, then BUILD with their state), so
//   a pickled nn.Module comes back as the same class with the same __dict__.
// - Dicts, lists and tuples that the reader flattened are restored from `origin`
//   (OrderedDict with its BUILD state, defaultdict, set, frozenset, torch.Size).
// - Tensors are written as torch.save writes them: `torch._utils._rebuild_tensor_v2` over a
//   persistent storage id ('storage', torch.<T>Storage, key, 'cpu', numel), wrapped in
//   `_rebuild_parameter` for parameters. Each tensor value gets its own contiguous CPU
//   storage, appended to `storages` (key = its index there).
// - A value reached twice (the same PyRef) is written once and fetched from the memo after,
//   so what was shared in the file (a model's `args` and its loss's `hyp`) stays shared.
// The tree must be acyclic (the reader guarantees it); depth is bounded by the tree's own.

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "io/pickle_reader.h"

namespace prunelab {

// Throws prunelab::Error for a value it cannot write (a Global without a module part).
std::string pickleTorch(const PyRef& root, std::vector<at::Tensor>& storages);

}  // namespace prunelab
