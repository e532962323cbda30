#pragma once
// CurvesPanel: training curves against epochs in three stacked plots sharing the x range:
// losses (per step and per epoch), learning rate and sr, and the metrics - top-1/top-5 or
// mAP, with the "pruned now" probe dashed: the accuracy the model would keep if it were
// pruned at the chosen percent right now, the signal people tune sr by. The metric plot
// also shows the fraction of BN |gamma| below the sparsity threshold ("sparse/fraction"
// per epoch) and, while the sr autopilot steers, its per-step measurement and target
// ("step/sparse_fraction", "step/sparse_target", dashed): sr, the fraction and the metric
// on one time axis.
// Series are created on first use from their names ("val/top1", "metrics/mAP50-95(B)",
// "pruned_now/top1", "train/box_loss"...). Thread: GUI thread; appends are O(1) and replots
// are queued.

#include <QColor>
#include <QHash>
#include <QSet>
#include <QStringList>
#include <QWidget>

#include "widgets/view_model.h"

class QCPGraph;
class QCustomPlot;

namespace prunelab::widgets {

class CurvesPanel : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesPanel(QWidget* parent = nullptr);

  void addStep(const StepPoint& p);
  void addEpoch(const EpochPoint& p);
  void clear();

  QStringList seriesNames() const { return m_order; }
  static constexpr int kReplotMs = 500;
  int pointCount(const QString& series) const;

 private:
  enum Plot { Losses, Rates, Metrics };
  QCPGraph* series(const QString& name, Plot plot, bool rightAxis = false);
  static Plot plotFor(const QString& name);
  void scheduleRescale();
  void rescale();
  void alignMargins();

  QCustomPlot* m_plots[3];
  QHash<QString, QCPGraph*> m_series;
  QStringList m_order;
  QSet<QRgb> m_taken;  // the colours of the series so far: each series gets its own
  double m_xMax = 1.0;
  bool m_rescalePending = false;
};

}  // namespace prunelab::widgets
