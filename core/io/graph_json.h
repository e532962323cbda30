#pragma once
// Graph structure <-> JSON (no tensor data: tensors are referenced by state_dict key
// and stored beside the JSON by the native checkpoint).

#include <nlohmann/json_fwd.hpp>

#include <functional>

#include "graph/graph.h"

namespace prunelab {

// Typed attributes <-> {"stride": {"ints": [1, 1]}, "eps": {"f": 1e-5}, ...}; the ONNX
// exporter uses them to tag nodes so that its own files import back exactly.
nlohmann::json attributesToJson(const Attributes& attrs);
Attributes attributesFromJson(const nlohmann::json& j);  // throws nlohmann::json::exception

// Each node's tensors are listed with name, buffer flag and key; `tensorRef` may add
// fields (the checkpoint adds its record name).
nlohmann::json graphToJson(const Graph& graph);

// Rebuilds the structure; `loadTensor(key, nodeName, tensorJson)` supplies each tensor.
// Throws prunelab::Error (subject `source`) for malformed JSON.
Graph graphFromJson(const nlohmann::json& j, const std::function<at::Tensor(const nlohmann::json&)>& loadTensor,
                    const std::string& source);

}  // namespace prunelab
