#pragma once
// Workbench::post, for the files that implement Workbench: queues a call on the worker
// thread (the worker's queue runs calls in order; m_pendingCalls counts them for whenIdle).

#include <QMetaObject>

#include <utility>

#include "gui/workbench.h"

namespace prunelab::gui {

template <class F>
void Workbench::post(F&& call) {
  ++m_pendingCalls;
  QMetaObject::invokeMethod(m_worker, std::forward<F>(call), Qt::QueuedConnection);
}

}  // namespace prunelab::gui
