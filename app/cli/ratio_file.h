#pragma once
// The per-layer ratio file of `prunelab-cli prune --ratios F.yaml`: either a map
// {layer or pattern: ratio} or {default: x, layers: {layer or pattern: ratio}}.

#include <string>
#include <utility>
#include <vector>

namespace prunelab::cli {

using LayerRatios = std::vector<std::pair<std::string, double>>;  // in file order

// Reads the file at `path`; `fallback` is set when the file has a `default`. Throws
// prunelab::Error naming the file for unreadable or malformed YAML, non-numeric ratios and
// a layer or pattern given twice.
LayerRatios readRatios(const std::string& path, double& fallback);

// The same from the file's text; `path` names it in errors (the fuzz harness's entry).
LayerRatios parseRatios(const std::string& yamlText, const std::string& path, double& fallback);

}  // namespace prunelab::cli
