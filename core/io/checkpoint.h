#pragma once
// The native checkpoint (.plm): graph structure + every tensor + metadata in one file,
// loaded back bit-exact. A zip (PyTorch's container) holding:
//   prunelab.json   {"format": "prunelab-checkpoint", "version": 1, "graph": ..., "tensors": [...]}
//   t/<i>           raw little-endian bytes of tensor i (contiguous)
//   x/<name>        extra tensors (optimizer state...), listed in prunelab.json
// Written atomically: a crash while saving never damages an existing checkpoint.

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>

#include "graph/graph.h"

namespace prunelab {

struct Checkpoint {
  Graph graph;
  std::map<std::string, std::string> info;       // free-form run information (epoch, metrics...)
  std::map<std::string, at::Tensor> extraTensors;  // e.g. optimizer state, keyed by name
};

void saveCheckpoint(const std::string& path, const Checkpoint& checkpoint);
// Throws prunelab::Error naming `path` for missing, truncated or foreign files.
Checkpoint loadCheckpoint(const std::string& path);
// The same from the text of prunelab.json and a reader of the other records ("t/<i>",
// "x/<i>"; throws prunelab::Error for a missing one); `path` names the file in errors.
// loadCheckpoint is this over the zip; the fuzz harness calls it with records in memory.
using CheckpointRecordReader = std::function<std::string(const std::string& record)>;
Checkpoint checkpointFromManifest(const std::string& manifestText, const CheckpointRecordReader& readRecord,
                                  const std::string& path);

bool isCheckpointFile(const std::string& path);  // a zip with prunelab.json

}  // namespace prunelab
