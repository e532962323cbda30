#pragma once
// Layered ("dot") layout of a directed graph with Graphviz, as plain geometry.
//
// computeLayout() is a pure function of its input and may run on any thread: Graphviz
// keeps global state, so calls are serialised by one mutex inside. Coordinates are
// scene pixels with y growing downwards (Graphviz's y axis points up and is flipped).

#include <QPainterPath>
#include <QRectF>
#include <QString>
#include <QVector>

namespace prunelab::widgets {

struct LayoutInput {
  struct Node {
    QString key;     // unique
    double width;    // pixels
    double height;
  };
  QVector<Node> nodes;
  QVector<QPair<int, int>> edges;  // indices into nodes
  double rankSep = 0.35;           // inches (72 pixels) between ranks
};

struct GraphLayout {
  QVector<QRectF> boxes;        // per input node
  QVector<QPainterPath> edges;  // per input edge (empty when Graphviz dropped it)
  QRectF bounds;
  QString error;                // non-empty when Graphviz failed
};

GraphLayout computeLayout(const LayoutInput& input);

}  // namespace prunelab::widgets
