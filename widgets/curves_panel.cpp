#include "widgets/curves_panel.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "widgets/charts.h"
#include "widgets/palette.h"
#include "widgets/qcustomplot_include.h"

#include <QTimer>
#include <QVBoxLayout>

namespace prunelab::widgets {

CurvesPanel::CurvesPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  const char* titles[] = {"loss", "lr / sr", "metric"};
  for (int i = 0; i < 3; ++i) {
    m_plots[i] = new QCustomPlot(this);
    prepareCurvePlot(*m_plots[i], titles[i], 7);
    m_plots[i]->setMinimumHeight(110);
    m_plots[i]->setPlottingHints(QCP::phCacheLabels | QCP::phFastPolylines);
    connect(m_plots[i], &QCustomPlot::afterLayout, this, &CurvesPanel::alignMargins);
    layout->addWidget(m_plots[i], i == Rates ? 2 : 3);
  }
  m_plots[Metrics]->xAxis->setLabel("epoch");
  m_plots[Rates]->yAxis2->setVisible(true);
  m_plots[Rates]->yAxis2->setLabel("sr");
  m_plots[Rates]->yAxis2->setNumberFormat("g");
  // Zooming one plot's x range zooms all three.
  for (int i = 0; i < 3; ++i) {
    m_plots[i]->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plots[i]->axisRect()->setRangeZoom(Qt::Horizontal);
    m_plots[i]->axisRect()->setRangeDrag(Qt::Horizontal);
    for (int j = 0; j < 3; ++j)
      if (i != j)
        connect(m_plots[i]->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), m_plots[j]->xAxis,
                qOverload<const QCPRange&>(&QCPAxis::setRange));
  }
}

CurvesPanel::Plot CurvesPanel::plotFor(const QString& name) {
  if (name.contains("loss")) return Losses;
  if (name == "lr" || name == "sr") return Rates;
  return Metrics;
}

QCPGraph* CurvesPanel::series(const QString& name, Plot plot, bool rightAxis) {
  auto it = m_series.find(name);
  if (it != m_series.end()) return it.value();
  const QColor colour = palette::curve(name, m_taken);
  m_taken.insert(colour.rgb());
  QCPGraph* g = addCurve(*m_plots[plot], name, colour, rightAxis);
  m_series.insert(name, g);
  m_order << name;
  return g;
}

void CurvesPanel::addStep(const StepPoint& p) {
  series("step/loss", Losses)->addData(p.epochPos, p.loss);
  series("lr", Rates)->addData(p.epochPos, p.lr);
  series("sr", Rates, true)->addData(p.epochPos, p.sr);
  if (p.sparseFraction >= 0) {  // the sr autopilot measured before this step
    series("step/sparse_fraction", Metrics)->addData(p.epochPos, p.sparseFraction);
    series("step/sparse_target", Metrics)->addData(p.epochPos, p.sparseTarget);
  }
  m_xMax = std::max(m_xMax, p.epochPos);
  scheduleRescale();
}

void CurvesPanel::addEpoch(const EpochPoint& p) {
  for (const auto& kv : p.values) {
    const QString& name = kv.first;
    // Shown elsewhere or on another scale: speed and gamma statistics stay in the log/table.
    if (name.startsWith("gamma/") || name.startsWith("speed/") || name.startsWith("train/top")) continue;
    series(name, plotFor(name))->addData(p.epoch + 1.0, kv.second);
  }
  m_xMax = std::max(m_xMax, p.epoch + 1.0);
  scheduleRescale();
}

// Points arrive every ~40 ms while training; rescaling and replotting three plots at most
// twice a second keeps the curves live without taking CPU from the trainer (on 2 cores
// every millisecond the GUI paints is taken from training).
void CurvesPanel::scheduleRescale() {
  if (m_rescalePending) return;
  m_rescalePending = true;
  QTimer::singleShot(kReplotMs, this, [this] {
    m_rescalePending = false;
    rescale();
  });
}

void CurvesPanel::rescale() {
  for (int i = 0; i < 3; ++i) {
    QCustomPlot* p = m_plots[i];
    p->xAxis->setRange(0, m_xMax);
    bool found = false;
    // A robust range: one exploding value (a loss of 4e25) must not flatten every curve.
    // Values far above the 98th percentile (more than 3 spreads) are left off the scale.
    const QCPRange y = [&] {
      std::vector<double> v;
      for (int g = 0; g < p->graphCount(); ++g) {
        if (p->graph(g)->valueAxis() != p->yAxis) continue;
        for (auto it = p->graph(g)->data()->constBegin(); it != p->graph(g)->data()->constEnd(); ++it)
          if (std::isfinite(it->value)) v.push_back(it->value);
      }
      found = !v.empty();
      if (!found) return QCPRange();
      std::sort(v.begin(), v.end());
      const double lo = v.front(), q98 = v[static_cast<size_t>(0.98 * double(v.size() - 1))];
      const double spread = std::max(q98 - lo, 1e-12);
      return QCPRange(lo, v.back() > q98 + 3 * spread ? q98 + 0.25 * spread : v.back());
    }();
    if (found) {
      const double pad = std::max(1e-9, (y.upper - y.lower) * 0.08);
      p->yAxis->setRange(i == Losses ? std::max(0.0, y.lower - pad) : y.lower - pad, y.upper + pad);
    }
    p->legend->setVisible(p->graphCount() > 0);  // no empty legend box before the first run
    if (i == Rates) {
      bool ok = false;
      const QCPRange sr = m_series.contains("sr") ? m_series["sr"]->getValueRange(ok) : QCPRange();
      p->yAxis2->setRange(0, ok && sr.upper > 0 ? sr.upper * 1.08 : 1e-3);
    }
    p->replot(QCustomPlot::rpQueuedReplot);
  }
}

// The three plots share the x range, so an epoch must sit at the same pixel column in each:
// every axis rect gets the widest left and right margin any of them needs (tick labels differ,
// and only the lr/sr plot has a right axis). Margins only grow until clear(), so this settles.
void CurvesPanel::alignMargins() {
  int left = 0, right = 0;
  for (QCustomPlot* p : m_plots) {
    left = std::max(left, p->axisRect()->margins().left());
    right = std::max(right, p->axisRect()->margins().right());
  }
  for (QCustomPlot* p : m_plots) {
    const QMargins m = p->axisRect()->minimumMargins();
    if (m.left() == left && m.right() == right) continue;
    p->axisRect()->setMinimumMargins(QMargins(left, m.top(), right, m.bottom()));
    p->replot(QCustomPlot::rpQueuedReplot);
  }
}

void CurvesPanel::clear() {
  for (QCustomPlot* p : m_plots) p->axisRect()->setMinimumMargins(QMargins());
  for (QCustomPlot* p : m_plots) p->clearGraphs();
  m_series.clear();
  m_order.clear();
  m_taken.clear();
  m_xMax = 1.0;
  rescale();
}

int CurvesPanel::pointCount(const QString& name) const {
  const QCPGraph* g = m_series.value(name);
  return g ? g->dataCount() : 0;
}

}  // namespace prunelab::widgets
