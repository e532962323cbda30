#pragma once
// ModelHistory: every version of the model a session has made. Each change (load,
// train, prune) pushes a new Graph, so undo/redo move a cursor and a before/after
// comparison needs no copies. Versions are shared_ptrs: a caller may keep one alive
// (e.g. a training run) while the history moves on.
//
// Threads: not synchronised; owned and used by one thread (the GUI's worker, a CLI run).

#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace prunelab {

class ModelHistory {
 public:
  bool empty() const { return m_pos < 0; }
  // Drops everything and starts from `graph`.
  void reset(Graph graph, const std::string& label);
  // A new version after the current one; drops the redo tail.
  void push(Graph graph, const std::string& label, bool bySurgery = false);
  void undo();  // throws prunelab::Error when there is nothing to undo
  void redo();

  Graph& current();  // throws when empty
  const Graph& current() const;
  std::shared_ptr<Graph> currentPtr();
  std::shared_ptr<Graph> at(int index) { return m_versions.at(static_cast<size_t>(index)).graph; }
  const std::string& label(int index) const { return m_versions.at(static_cast<size_t>(index)).label; }
  const std::string& currentLabel() const { return label(m_pos); }
  int position() const { return m_pos; }
  int size() const { return static_cast<int>(m_versions.size()); }
  // What a before/after comparison calls "before": the last version before the first
  // cut up to the current one (the trained, unpruned model), else the first.
  int baseline() const;

 private:
  struct Version {
    std::shared_ptr<Graph> graph;
    std::string label;
    bool bySurgery = false;
  };
  std::vector<Version> m_versions;
  int m_pos = -1;
};

}  // namespace prunelab
