#include "report/report_charts.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QPainter>
#include <QTimer>
#include <algorithm>
#include <cmath>

#include "widgets/network_graph_view.h"
#include "widgets/palette.h"
#include "widgets/qcustomplot_include.h"

namespace prunelab::report {

namespace {

constexpr int kPointSize = 9;  // tick labels and legends: read at the report's column width

void style(QCustomPlot& p) {
  p.setBackground(Qt::white);
  QFont f = p.font();
  f.setPointSize(kPointSize);
  p.xAxis->setTickLabelFont(f);
  p.yAxis->setTickLabelFont(f);
  p.yAxis2->setTickLabelFont(f);
  p.legend->setFont(f);
  p.legend->setVisible(true);
  p.legend->setBrush(QColor(255, 255, 255, 220));  // translucent white over the data
}

QImage render(QCustomPlot& p, QSize size) {
  p.resize(size);
  p.replot(QCustomPlot::rpImmediateRefresh);
  QImage img = p.toPixmap(size.width(), size.height(), 2.0).toImage();  // 2x for print
  img.setDevicePixelRatio(1.0);  // plain pixels: HTML and QTextDocument scale by the width they are given
  return img;
}

}  // namespace

QImage histogramChart(const widgets::HistogramChart& chart, QSize size) {
  QCustomPlot p;
  style(p);
  widgets::drawHistogram(p, chart);
  return render(p, size);
}

QImage curvesChart(const widgets::CurveChart& chart, QSize size) {
  QCustomPlot p;
  style(p);
  widgets::drawCurves(p, chart, kPointSize);
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
  b->setBrush(widgets::palette::before());  // the Compare panel's before and after
  b->setPen(Qt::NoPen);
  a->setBrush(widgets::palette::after());
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
