#include "report/report_charts.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QPainter>
#include <QTimer>
#include <algorithm>
#include <cmath>

#include "widgets/network_graph_view.h"
#include "widgets/qcustomplot_include.h"

namespace prunelab::report {

namespace {

const QColor kBefore(120, 144, 168);
const QColor kAfter(31, 119, 180);
const QColor kAccent(224, 122, 95);

void style(QCustomPlot& p) {
  p.setBackground(Qt::white);
  QFont f = p.font();
  f.setPointSize(9);
  p.xAxis->setTickLabelFont(f);
  p.yAxis->setTickLabelFont(f);
  p.legend->setFont(f);
  p.legend->setVisible(true);
  p.legend->setBrush(QColor(255, 255, 255, 220));
}

QImage render(QCustomPlot& p, QSize size) {
  p.resize(size);
  p.replot(QCustomPlot::rpImmediateRefresh);
  QImage img = p.toPixmap(size.width(), size.height(), 2.0).toImage();  // 2x for print
  img.setDevicePixelRatio(1.0);  // plain pixels: HTML and QTextDocument scale by the width they are given
  return img;
}

}  // namespace

QImage histogramChart(const QVector<double>& a, const QString& aName, const QVector<double>& b, const QString& bName,
                      const QString& xLabel, QSize size) {
  QCustomPlot p;
  style(p);
  QVector<double> all = a + b;
  std::sort(all.begin(), all.end());
  const double hi = all.isEmpty() ? 1.0 : std::max(1e-6, all[static_cast<int>(0.995 * (all.size() - 1))]);
  const int bins = 40;
  const double width = hi / bins;
  auto histogram = [&](const QVector<double>& v) {
    QVector<double> counts(bins, 0.0);
    for (double x : v) counts[std::clamp(static_cast<int>(x / width), 0, bins - 1)] += 1;
    for (double& c : counts) c = v.isEmpty() ? 0 : 100.0 * c / v.size();
    return counts;
  };
  QVector<double> centers(bins);
  for (int i = 0; i < bins; ++i) centers[i] = (i + 0.5) * width;
  const QVector<QPair<const QVector<double>*, QPair<QString, QColor>>> sets = {{&a, {aName, kBefore}}, {&b, {bName, kAccent}}};
  for (const auto& [values, meta] : sets) {
    if (values->isEmpty()) continue;
    auto* bars = new QCPBars(p.xAxis, p.yAxis);
    bars->setName(meta.first);
    bars->setWidth(width * 0.9);
    QColor fill = meta.second;
    fill.setAlpha(150);
    bars->setBrush(fill);
    bars->setPen(QPen(meta.second.darker(120)));
    bars->setData(centers, histogram(*values), true);
  }
  p.xAxis->setLabel(xLabel);
  p.yAxis->setLabel("% of channels");
  p.rescaleAxes();
  p.xAxis->setRange(0, hi);
  p.yAxis->setRangeLower(0);
  p.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  return render(p, size);
}

QImage curvesChart(const QVector<CurveSeries>& series, const QString& xLabel, const QString& leftLabel,
                   const QString& rightLabel, const QVector<QPair<double, QString>>& marks, QSize size) {
  QCustomPlot p;
  style(p);
  const QVector<QColor> colors = {kAfter, kAccent, QColor(44, 160, 44), QColor(148, 103, 189)};
  int k = 0;
  for (const CurveSeries& s : series) {
    auto* g = p.addGraph(p.xAxis, s.rightAxis ? p.yAxis2 : p.yAxis);
    g->setName(s.name);
    g->setPen(QPen(colors[k++ % colors.size()], 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    g->setData(s.x, s.y);
  }
  p.xAxis->setLabel(xLabel);
  p.yAxis->setLabel(leftLabel);
  p.yAxis2->setVisible(!rightLabel.isEmpty());
  p.yAxis2->setLabel(rightLabel);
  p.rescaleAxes();
  const QCPRange xr = p.xAxis->range();
  p.xAxis->setRange(xr.lower - 0.3, xr.upper + 0.3);
  p.yAxis->scaleRange(1.15, p.yAxis->range().center());
  p.yAxis2->scaleRange(1.15, p.yAxis2->range().center());
  for (const auto& [x, label] : marks) {
    auto* line = new QCPItemStraightLine(&p);
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
    line->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    auto* text = new QCPItemText(&p);
    text->position->setType(QCPItemPosition::ptPlotCoords);
    text->position->setCoords(x, p.yAxis->range().upper);
    text->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
    text->setText(" " + label);
    text->setColor(Qt::darkGray);
  }
  p.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignLeft);
  return render(p, size);
}

QImage channelsChart(const QStringList& layers, const QVector<double>& before, const QVector<double>& after, QSize size) {
  QCustomPlot p;
  style(p);
  QVector<double> ticks;
  for (int i = 0; i < layers.size(); ++i) ticks << layers.size() - i;  // first layer at the top
  auto* b = new QCPBars(p.yAxis, p.xAxis);
  auto* a = new QCPBars(p.yAxis, p.xAxis);
  b->setName("before");
  a->setName("after");
  b->setBrush(QColor(200, 210, 222));
  b->setPen(QPen(kBefore));
  a->setBrush(kAfter);
  a->setPen(Qt::NoPen);
  b->setWidth(0.8);
  a->setWidth(0.5);
  b->setData(ticks, before, true);
  a->setData(ticks, after, true);
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  const int every = std::max(1, static_cast<int>(std::ceil(layers.size() / 60.0)));
  for (int i = 0; i < layers.size(); i += every) ticker->addTick(ticks[i], layers[i]);
  p.yAxis->setTicker(ticker);
  QFont small = p.font();
  small.setPointSize(layers.size() > 40 ? 6 : 8);
  p.yAxis->setTickLabelFont(small);
  p.xAxis->setLabel("output channels");
  p.rescaleAxes();
  p.yAxis->setRange(0.3, layers.size() + 0.7);
  p.xAxis->setRange(0, p.xAxis->range().upper * 1.05);
  p.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
  return render(p, size);
}

QImage networkPicture(const widgets::NetworkView& view, QSize size, int timeoutMs) {
  widgets::NetworkGraphView v;
  v.resize(size);
  v.setAttribute(Qt::WA_DontShowOnScreen);
  v.show();
  v.setNetwork(view);
  v.setColorMode(widgets::NetworkGraphView::ColorMode::PruneRatio);
  QElapsedTimer t;
  t.start();
  QEventLoop loop;
  while (!v.layoutReady() && t.elapsed() < timeoutMs) {
    QTimer::singleShot(20, &loop, &QEventLoop::quit);
    loop.exec();
  }
  if (!v.layoutReady()) return {};
  for (int i = 0; i < 3; ++i) {  // let the scene settle
    QTimer::singleShot(20, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return v.sceneImage(size.width() * 2);
}

}  // namespace prunelab::report
