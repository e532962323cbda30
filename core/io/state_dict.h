#pragma once
// PyTorch state_dict files: what plain `torch.save(model.state_dict(), path)` writes
// (a zip holding a pickled OrderedDict of tensors plus one record per storage).
// Also accepted: a dict wrapping it under "state_dict", "model_state_dict", "model" or
// "ema" (common training checkpoints), and keys prefixed "module." (DataParallel).

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

using StateDict = std::vector<std::pair<std::string, at::Tensor>>;  // in file order

// Throws prunelab::Error naming `path` for missing, corrupt or unsupported files.
StateDict readTorchStateDict(const std::string& path);

struct LoadReport {
  int loaded = 0;
  std::vector<std::string> skippedOptional;  // e.g. num_batches_tracked absent in old files
};

// Copies tensors into the graph by key (in place: modules sharing the graph see them).
// Missing, unexpected and mis-shaped keys are collected and reported in *one* Error
// (subject `source`), before anything is modified. dtypes are converted.
LoadReport loadStateDict(Graph& graph, const StateDict& stateDict, const std::string& source);

}  // namespace prunelab
