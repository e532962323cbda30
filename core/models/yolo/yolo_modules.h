#pragma once
// Builders for the ultralytics modules on a GraphBuilder (internal to the YAML builder).
// Each takes the module's scope ("model.<i>") and returns the output value.

#include <cstdint>
#include <string>
#include <vector>

#include "models/graph_builder.h"

namespace prunelab::yolo {

ValueId conv(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t k = 1, int64_t s = 1,
             int64_t pad = -1, int64_t g = 1, bool act = true);
ValueId bottleneck(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, bool shortcut, int64_t k1,
                   int64_t k2, double e);
ValueId c3(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t n, bool shortcut, double e,
           int64_t k1, int64_t k2);
// C2f and C3k2 share the chunk/chain/concat structure; `inner` picks the repeated block:
// "c2f" (Bottleneck e=1.0), "bottleneck" (C3k2: Bottleneck e=0.5) or "c3k" (C3k2: C3k n=2).
ValueId c2f(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t n, bool shortcut, double e,
            const std::string& inner);
ValueId sppf(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t k);
ValueId c2psa(GraphBuilder& b, ValueId x, const std::string& p, int64_t c2, int64_t n, double e);

// Heads: append raw outputs and the decode node; return the raw outputs in level order.
std::vector<ValueId> detectV5(GraphBuilder& b, const std::vector<ValueId>& in, const std::string& p, int64_t nc,
                              const std::vector<std::vector<double>>& anchors, const std::vector<int64_t>& strides);
std::vector<ValueId> detectDfl(GraphBuilder& b, const std::vector<ValueId>& in, const std::string& p, int64_t nc,
                               bool legacy, const std::vector<int64_t>& strides);

}  // namespace prunelab::yolo
