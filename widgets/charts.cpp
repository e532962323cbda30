#include "widgets/charts.h"

#include <QSet>
#include <algorithm>

#include "widgets/palette.h"
#include "widgets/qcustomplot_include.h"

namespace prunelab::widgets {

void addToHistogram(QVector<double>& counts, const QVector<float>& values, double max) {
  const int bins = static_cast<int>(counts.size());
  if (bins == 0 || max <= 0) return;
  for (float v : values) counts[std::clamp(static_cast<int>(v / max * bins), 0, bins - 1)] += 1.0;
}

void drawHistogram(QCustomPlot& plot, const HistogramChart& chart) {
  plot.clearPlottables();
  int bins = 0;
  for (const HistogramSeries& s : chart.series) bins = std::max(bins, static_cast<int>(s.counts.size()));
  const double width = bins > 0 ? chart.max / bins : chart.max;
  QVector<double> keys;  // bin centres
  for (int b = 0; b < bins; ++b) keys.push_back((b + 0.5) * width);
  const bool overlaid = chart.series.size() > 1;
  double top = 0;
  bool named = false;
  for (const HistogramSeries& s : chart.series) {
    auto* bars = new QCPBars(plot.xAxis, plot.yAxis);
    bars->setWidth(width * 0.9);
    if (overlaid) {  // both distributions stay visible where they overlap
      QColor fill = s.colour;
      fill.setAlpha(150);
      bars->setBrush(fill);
      bars->setPen(QPen(s.colour.darker(120)));
    } else {
      bars->setBrush(s.colour);
      bars->setPen(Qt::NoPen);
    }
    bars->setName(s.name);
    if (s.name.isEmpty()) bars->removeFromLegend();
    named = named || !s.name.isEmpty();
    QVector<double> counts = s.counts;
    if (chart.logCounts)
      for (double& c : counts) c = std::max(c, 0.5);  // log axes cannot show 0
    for (double c : counts) top = std::max(top, c);
    bars->setData(keys.mid(0, counts.size()), counts, true);
  }
  plot.xAxis->setLabel(chart.xLabel);
  plot.yAxis->setLabel(chart.yLabel);
  const auto scale = chart.logCounts ? QCPAxis::stLogarithmic : QCPAxis::stLinear;
  if (plot.yAxis->scaleType() != scale) {
    plot.yAxis->setScaleType(scale);
    if (chart.logCounts) plot.yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else plot.yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  plot.xAxis->setRange(0, chart.max);
  plot.yAxis->setRange(chart.logCounts ? 0.5 : 0.0, std::max(1.0, top * 1.1));
  plot.legend->setVisible(named);
  plot.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
}

void prepareCurvePlot(QCustomPlot& p, const QString& yLabel, int legendPointSize) {
  p.yAxis->setLabel(yLabel);
  p.legend->setFont(QFont(p.font().family(), legendPointSize));
  p.legend->setRowSpacing(-3);
  // The legend sits in a row of its own above the axis rect, never on the data: one row
  // of entries, wrapping when the plot is narrow.
  p.plotLayout()->insertRow(0);
  p.plotLayout()->addElement(0, 0, p.legend);  // taken out of the axis rect's inset layout
  p.plotLayout()->setRowStretchFactor(0, 0.001);
  p.plotLayout()->setRowSpacing(0);
  p.legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  p.legend->setWrap(4);
  p.legend->setBorderPen(Qt::NoPen);
  p.legend->setMargins(QMargins(4, 1, 4, 0));
  p.legend->setVisible(false);  // shown once a curve exists
}

QCPGraph* addCurve(QCustomPlot& p, const QString& name, const QColor& colour, bool rightAxis) {
  QCPGraph* g = p.addGraph(p.xAxis, rightAxis ? p.yAxis2 : p.yAxis);
  g->setName(name);
  const bool dense = name.startsWith("step/") || name == "lr" || name == "sr";  // a point per step: thousands
  QPen pen(colour, 1.6);
  if (name.startsWith("pruned_now/")) pen.setStyle(Qt::DashLine), pen.setWidthF(2.0);
  if (name == "step/loss") pen.setWidthF(0.8);
  if (name == "step/sparse_target") pen.setStyle(Qt::DashLine);
  g->setPen(pen);
  g->setAntialiased(!dense);
  if (!dense) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
  return g;
}

void drawCurves(QCustomPlot& p, const CurveChart& chart, int legendPointSize) {
  prepareCurvePlot(p, chart.yLabel, legendPointSize);
  QSet<QRgb> taken;
  for (const CurveSeries& s : chart.series) {
    const QColor colour = palette::curve(s.name, taken);
    taken.insert(colour.rgb());
    QCPGraph* g = addCurve(p, s.name, colour, s.rightAxis);
    if (!s.label.isEmpty()) g->setName(s.label);
    g->setData(s.x, s.y);
  }
  p.legend->setVisible(!chart.series.isEmpty());
  p.xAxis->setLabel(chart.xLabel);
  p.yAxis2->setVisible(!chart.rightLabel.isEmpty());
  p.yAxis2->setLabel(chart.rightLabel);
  p.rescaleAxes();
  const QCPRange xr = p.xAxis->range();
  p.xAxis->setRange(xr.lower - 0.3, xr.upper + 0.3);
  p.yAxis->scaleRange(1.15, p.yAxis->range().center());
  p.yAxis2->scaleRange(1.15, p.yAxis2->range().center());
  for (const CurveMark& m : chart.marks) {
    auto* line = new QCPItemStraightLine(&p);
    line->point1->setCoords(m.x, 0);
    line->point2->setCoords(m.x, 1);
    line->setPen(QPen(palette::muted(), 1, Qt::DashLine));
    auto* text = new QCPItemText(&p);
    text->position->setType(QCPItemPosition::ptPlotCoords);
    text->position->setCoords(m.x, p.yAxis->range().upper);
    text->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    text->setText(" " + m.label);
    text->setColor(palette::muted());
  }
}

}  // namespace prunelab::widgets
