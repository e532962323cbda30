#pragma once
// PyTorch state_dict files: what plain `torch.save(model.state_dict(), path)` writes
// (a zip holding a pickled OrderedDict of tensors plus one record per storage).
// Also accepted: a dict wrapping it under "state_dict", "model_state_dict", "ema" (when
// not None, as the trainers prefer it), "model" or "net" (common training checkpoints),
// keys prefixed "module." (DataParallel), and a whole pickled nn.Module in those places
// (yolov5/ultralytics checkpoints), whose state_dict is rebuilt from its module tree.
// The pickle is read by io/torch_pickle (an allow-list of names; nothing is run).

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "io/pickle_reader.h"

namespace prunelab {

using StateDict = std::vector<std::pair<std::string, at::Tensor>>;  // in file order

// Throws prunelab::Error naming `path` for missing, corrupt or unsupported files.
StateDict readTorchStateDict(const std::string& path);
// The same from an already read pickle (io/torch_pickle.h); `path` names it in errors.
StateDict stateDictFromPickle(const PyRef& root, const std::string& path);
// The state_dict of a pickled nn.Module, as module.state_dict() would give it: each
// module's `_parameters` and persistent `_buffers` (None entries skipped), then its
// `_modules`, keys joined by "."; tensors in the file's dtype.
StateDict moduleStateDict(const PyRef& module, const std::string& path);

struct LoadReport {
  int loaded = 0;
  std::vector<std::string> skippedOptional;  // e.g. num_batches_tracked absent in old files
};

// Copies tensors into the graph by key (in place: modules sharing the graph see them).
// Missing, unexpected and mis-shaped keys are collected and reported in *one* Error
// (subject `source`), before anything is modified. dtypes are converted.
LoadReport loadStateDict(Graph& graph, const StateDict& stateDict, const std::string& source);

// Transfer learning (ultralytics' intersect_dicts): copies every tensor whose key and shape
// match, leaves the others as built, never fails on a mismatch. For a model built with
// other classes than the file's (the class convs of the head differ), or when asked.
struct TransferReport {
  int transferred = 0;               // model tensors copied from the file
  int total = 0;                     // tensors of the model (state_dict entries)
  std::vector<std::string> skipped;  // model keys not copied, each with why
  std::vector<std::string> unused;   // file keys the model has no place for
  std::string summary() const;       // "transferred 319/355 tensors"
};
TransferReport transferStateDict(Graph& graph, const StateDict& stateDict, const std::string& source);

}  // namespace prunelab
