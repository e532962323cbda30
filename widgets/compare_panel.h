#pragma once
// ComparePanel: the original model against the current one - params, MACs, size, latency
// measured on this machine and the task metric, with the change - and the channels of
// every layer before/after as grouped bars. Thread: GUI thread.

#include <QWidget>

#include "widgets/view_model.h"

class QCPBars;
class QCustomPlot;
class QTableWidget;

namespace prunelab::widgets {

class ComparePanel : public QWidget {
  Q_OBJECT
 public:
  explicit ComparePanel(QWidget* parent = nullptr);
  void setData(const CompareData& data);
  const CompareData& data() const { return m_data; }
  QTableWidget* table() const { return m_table; }

 private:
  void updateTicks(bool force);

  CompareData m_data;
  QVector<CompareLayer> m_shown;  // the layers drawn
  QTableWidget* m_table;
  QCustomPlot* m_plot;
  QCPBars* m_before;
  QCPBars* m_after;
  int m_tickStep = 0;  // every m_tickStep-th layer name is drawn
};

}  // namespace prunelab::widgets
