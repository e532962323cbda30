#pragma once
// A shape's text form (the inverse of shapeToString) and a graph's default input shape.

#include <string>

#include "graph/graph.h"

namespace prunelab {

// Parses "3x32x32" (or "3,32,32"); throws prunelab::Error on anything else.
Shape parseShape(const std::string& text);

// Default input (C x H x W) recorded in the graph's metadata, else the input value's shape.
Shape defaultInputShape(const Graph& graph);

}  // namespace prunelab
