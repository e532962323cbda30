#include "session/model_history.h"

#include "util/error.h"

namespace prunelab {

void ModelHistory::reset(Graph graph, const std::string& label) {
  m_versions.clear();
  m_pos = -1;
  push(std::move(graph), label);
}

void ModelHistory::push(Graph graph, const std::string& label, bool bySurgery) {
  m_versions.resize(static_cast<size_t>(m_pos + 1));
  m_versions.push_back({std::make_shared<Graph>(std::move(graph)), label, bySurgery});
  m_pos = static_cast<int>(m_versions.size()) - 1;
}

void ModelHistory::undo() {
  if (m_pos <= 0) throw Error("undo", "nothing to undo");
  --m_pos;
}

void ModelHistory::redo() {
  if (m_pos + 1 >= size()) throw Error("redo", "nothing to redo");
  ++m_pos;
}

Graph& ModelHistory::current() { return *currentPtr(); }

const Graph& ModelHistory::current() const {
  if (m_pos < 0) throw Error("model", "no model loaded");
  return *m_versions[static_cast<size_t>(m_pos)].graph;
}

std::shared_ptr<Graph> ModelHistory::currentPtr() {
  if (m_pos < 0) throw Error("model", "no model loaded");
  return m_versions[static_cast<size_t>(m_pos)].graph;
}

int ModelHistory::baseline() const {
  for (int i = 1; i <= m_pos; ++i)
    if (m_versions[static_cast<size_t>(i)].bySurgery) return i - 1;
  return 0;
}

}  // namespace prunelab
