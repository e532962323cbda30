#pragma once
// Input for NetworkGraphView tests: its QGraphicsView, and wheel notches sent to its
// viewport as a mouse would (GUI thread).

#include <QApplication>
#include <QGraphicsView>
#include <QWheelEvent>

#include "widgets/network_graph_view.h"

namespace prunelab::test {

// The view's QGraphicsView owns the viewport; reached this way the widget needs no extra accessor.
inline QGraphicsView* graphicsView(widgets::NetworkGraphView& view) {
  return qobject_cast<QGraphicsView*>(view.viewport()->parentWidget());
}

// One wheel event of `delta` (120 = one notch in) at viewport point `at`.
inline void wheel(QGraphicsView* gv, QPointF at, int delta) {
  QWheelEvent e(at, gv->viewport()->mapToGlobal(at), {}, QPoint(0, delta), Qt::NoButton, {}, Qt::NoScrollPhase,
                false);
  QApplication::sendEvent(gv->viewport(), &e);
}

}  // namespace prunelab::test
