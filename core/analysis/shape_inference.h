#pragma once
// Static shape inference through the op table.

#include "graph/graph.h"
#include "graph/input_shape.h"  // parseShape, defaultInputShape

namespace prunelab {

// Sets every value's shape for the given input shapes (one per graph input, batch dim
// included). Throws prunelab::Error naming the first node whose inputs don't fit.
void inferShapes(Graph& graph, const std::vector<Shape>& inputShapes);

// Convenience for single-input graphs: input "CxHxW" with batch 1.
void inferShapes(Graph& graph, const Shape& chw);

}  // namespace prunelab
