#pragma once
// GraphRewriter: the scaffold every whole-graph pass builds its result with. The Graph
// IR is append-only (nodes in topological order), so a pass copies the source graph node
// by node into a new one, replacing or dropping some on the way; the rewriter keeps the
// map from source values to result values and carries names, shapes, metadata, inputs
// and outputs over unchanged.
//
// Contracts
// - Tensors are shared, not cloned (at::Tensor handles): a pass that changes a tensor's
//   values must put a new tensor in the node it emits, never write into the old one.
// - Every source value a copied node reads must have been mapped (copied or aliased)
//   before; finish() throws prunelab::Error for a graph output left unmapped.

#include "graph/graph.h"

#include <vector>

namespace prunelab::passes {

class GraphRewriter {
 public:
  // Starts the result with `source`'s inputs (same names and shapes) and metadata.
  explicit GraphRewriter(const Graph& source);

  const Graph& source() const { return m_src; }
  Graph& result() { return m_dst; }

  // The result value standing for source value `v` (throws when not mapped yet).
  ValueId map(ValueId v) const;
  std::vector<ValueId> map(const std::vector<ValueId>& vs) const;
  // From now on, source value `v` is result value `now` (a node was folded away).
  void alias(ValueId v, ValueId now);

  // Copies `n` (same op, name, scope, attrs, tensors, output names and shapes) with its
  // inputs mapped; returns the new node's id.
  NodeId copy(const Node& n);
  // Copies `n` with other tensors (a pass that rewrote its weights).
  NodeId copyWithTensors(const Node& n, std::vector<NamedTensor> tensors);

  // Marks the mapped graph outputs and returns the result.
  Graph finish();

 private:
  const Graph& m_src;
  Graph m_dst;
  std::vector<ValueId> m_map;  // source value id -> result value id (-1: not yet)
};

}  // namespace prunelab::passes
