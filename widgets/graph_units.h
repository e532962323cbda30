#pragma once
// Which boxes the network graph draws: every node on its own, or the nodes of a collapsed
// scope ("model.2", "layer1") merged into one block keyed "[model.2]". Pure functions of a
// NetworkView and a set of collapsed scopes, so both zoom levels of NetworkGraphView (the
// nodes and the top-level blocks) are built by the same code. Any thread.

#include <QHash>
#include <QSet>
#include <QString>
#include <QVector>

#include "widgets/view_model.h"

namespace prunelab::widgets {

struct GraphUnit {
  QString key;          // a node name, or "[scope]" for a block
  QVector<int> nodes;   // indices into NetworkView::nodes, in topological order
  bool block = false;
  bool emphasised = false;  // Conv/Linear, or a block
  QString scope() const { return block ? key.mid(1, key.size() - 2) : QString(); }
};

struct GraphUnits {
  QVector<GraphUnit> units;
  QVector<int> unitOfNode;         // node index -> index into units
  QHash<QString, int> unitIndex;   // key -> index into units
  QVector<QPair<int, int>> edges;  // between units, without self loops or duplicates
};

// `scope` is `outer` or lies below it ("model.2.cv1" is within "model.2", "model.20" is not).
bool scopeWithin(const QString& scope, const QString& outer);
// The child of `root` that `scope` lies in ("model", "model.2.cv1.conv" -> "model.2").
QString childScope(const QString& root, const QString& scope);

// Each node joins the block of the outermost collapsed scope holding it, else stands alone.
GraphUnits groupUnits(const NetworkView& net, const QSet<QString>& collapsed);
// The child scopes of `root` holding more than one node, except `except`.
QSet<QString> childBlocks(const NetworkView& net, const QString& root, const QString& except);
// The top-level blocks: the children of the root, descending through wrappers that hold
// most of the model (YOLO's "model", MobileNet's "features"), so the blocks are model.2 /
// features.3 / layer1 rather than one giant box.
QSet<QString> topLevelBlocks(const NetworkView& net);

// Whether a node counts in its block's kept/total and colour: a prunable Conv/Linear (a
// channel source in a dependency group). Networks that carry no groups at all (the
// report's, rebuilt from a checkpoint) count every channel source.
bool countsInBlock(const GraphNodeInfo& n, bool networkHasGroups);
bool hasGroups(const NetworkView& net);

// A block's summary over the nodes that count in it.
struct BlockSummary {
  qint64 macs = 0;  // of every node in it
  int convs = 0;
  int channels = 0;
  int kept = 0;
};
BlockSummary summarise(const GraphUnit& unit, const NetworkView& net);

}  // namespace prunelab::widgets
