#pragma once
// The network graph's colours: pruned share (palette::cost, white -> pruned red), importance (viridis-like, so
// colour-blind users read the order), channel groups (categorical), and the greys of boxes
// without data, outlines and edges. Shared by the boxes, the legend and the edges.

#include <QColor>

namespace prunelab::widgets {

inline const QColor kNoData(212, 212, 212);
inline const QColor kPen(90, 90, 90);
inline const QColor kSelectedPen(0, 120, 215);
inline const QColor kEdge(125, 125, 125);

QColor mix(const QColor& a, const QColor& b, double t);  // t in [0, 1], clamped
QColor pruneColour(double prunedShare);                  // palette::cost: 0 white, 1 palette::pruned()
QColor importanceColour(double v);                       // 0..1, dark purple -> yellow
QColor groupColour(int group);                           // < 0: kNoData

}  // namespace prunelab::widgets
