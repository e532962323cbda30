#include "widgets/gamma_panel.h"

#include "widgets/charts.h"
#include "widgets/palette.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

namespace prunelab::widgets {

namespace {
constexpr int kMaxFrames = 400;  // beyond this every other old frame is dropped
}

GammaPanel::GammaPanel(QWidget* parent)
    : QWidget(parent), m_histPlot(new QCustomPlot(this)), m_heatPlot(new QCustomPlot(this)),
      m_log(new QCheckBox("log counts", this)), m_stats(new QLabel(this)) {
  m_histPlot->setMinimumHeight(140);

  m_map = new QCPColorMap(m_heatPlot->xAxis, m_heatPlot->yAxis);
  auto* scale = new QCPColorScale(m_heatPlot);
  m_heatPlot->plotLayout()->addElement(0, 1, scale);
  scale->setType(QCPAxis::atRight);
  scale->axis()->setLabel("log(1 + channels)");
  m_map->setColorScale(scale);
  m_map->setGradient(QCPColorGradient::gpThermal);
  m_map->setInterpolate(false);
  auto* margin = new QCPMarginGroup(m_heatPlot);
  m_heatPlot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margin);
  scale->setMarginGroup(QCP::msBottom | QCP::msTop, margin);
  m_heatPlot->xAxis->setLabel("epoch");
  m_heatPlot->yAxis->setLabel("|γ|");
  m_heatPlot->setMinimumHeight(140);

  connect(m_log, &QCheckBox::toggled, this, &GammaPanel::redraw);
  auto* top = new QHBoxLayout;
  top->addWidget(m_stats, 1);
  top->addWidget(m_log);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(top);
  layout->addWidget(m_histPlot, 1);
  layout->addWidget(m_heatPlot, 1);
  m_stats->setText("no BatchNorm snapshot yet");
  m_stats->setWordWrap(true);
  m_stats->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
}

double GammaPanel::lastEpoch() const { return m_frames.isEmpty() ? 0.0 : m_frames.back().epoch; }
QString GammaPanel::statsText() const { return m_stats->text(); }

void GammaPanel::clear() {
  m_frames.clear();
  m_hists.clear();
  m_stride = 1;
  m_arrivals = 0;
  m_lastProvisional = false;
  redraw();
}

QVector<double> GammaPanel::histogram(const GammaFrame& f) const {
  QVector<double> h(kBins, 0.0);
  for (int l = 0; l < f.layers.size(); ++l)
    if (m_selected.isEmpty() || m_selected.contains(f.layers[l])) addToHistogram(h, f.absGamma[l], m_max);
  return h;
}

void GammaPanel::addFrame(const GammaFrame& frame) {
  if (frame.layers.isEmpty()) return;
  if (m_frames.isEmpty()) {
    // A fixed range keeps frames comparable: the first snapshot's 99.5th percentile, at least 1.
    QVector<float> all;
    for (const auto& v : frame.absGamma) all += v;
    std::sort(all.begin(), all.end());
    const float p = all.isEmpty() ? 1.0f : all[static_cast<int>(0.995 * (all.size() - 1))];
    m_max = std::max(1.0, 1.25 * p);
  }
  // The heat map draws frames as evenly spaced columns. Thinning halves the stored rate, so from
  // then on only every m_stride-th arriving frame is stored; the newest one is still shown, as
  // a provisional last column that the next arrival replaces.
  if (m_lastProvisional) {
    m_frames.removeLast();
    m_hists.removeLast();
    m_lastProvisional = false;
  }
  if (m_frames.size() >= kMaxFrames) {
    m_stride *= 2;
    m_arrivals = 0;
    QVector<GammaFrame> kept;
    for (int i = 0; i < m_frames.size(); i += 2) kept.push_back(m_frames[i]);
    m_frames = kept;
    QVector<QVector<double>> hists;
    for (int i = 0; i < m_hists.size(); i += 2) hists.push_back(m_hists[i]);
    m_hists = hists;
  }
  m_lastProvisional = m_arrivals++ % m_stride != 0;
  m_frames.push_back(frame);
  m_hists.push_back(histogram(frame));
  redraw();
}

void GammaPanel::setSelectedLayers(const QStringList& bnNames) {
  if (bnNames == m_selected) return;
  m_selected = bnNames;
  rebuild();
}

void GammaPanel::rebuild() {
  m_hists.clear();
  for (const GammaFrame& f : m_frames) m_hists.push_back(histogram(f));
  redraw();
}

QVector<double> GammaPanel::histogramCounts() const { return m_hists.isEmpty() ? QVector<double>() : m_hists.back(); }

void GammaPanel::redraw() {
  const double width = m_max / kBins;
  HistogramChart chart;
  chart.max = m_max;
  chart.logCounts = m_log->isChecked();
  if (m_frames.isEmpty()) {
    drawHistogram(*m_histPlot, chart);
    m_map->data()->clear();
    m_histPlot->replot(QCustomPlot::rpQueuedReplot);
    m_heatPlot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // Newest frame: histogram and statistics over the selected layers.
  const GammaFrame& f = m_frames.back();
  double sum = 0;
  qint64 n = 0, small = 0;
  for (int l = 0; l < f.layers.size(); ++l) {
    if (!m_selected.isEmpty() && !m_selected.contains(f.layers[l])) continue;
    for (float g : f.absGamma[l]) sum += g, ++n, small += g < 0.01f;
  }
  m_mean = n ? sum / n : 0.0;
  m_stats->setText(QString("%1 · %2 channels · mean |γ| %3 · %4 % < 0.01 · epoch %5")
                       .arg(m_selected.isEmpty() ? QString("all BN layers")
                                                : m_selected.size() <= 2 ? m_selected.join(", ")
                                                                         : QString("%1 BN layers of the selection").arg(m_selected.size()))
                       .arg(n)
                       .arg(m_mean, 0, 'f', 3)
                       .arg(n ? 100.0 * small / n : 0.0, 0, 'f', 1)
                       .arg(f.epoch, 0, 'f', 1) +
                   (f.note.isEmpty() ? QString() : " · " + f.note));
  chart.series = {{QString(), m_hists.back(), palette::gamma()}};
  drawHistogram(*m_histPlot, chart);

  // Heat map: one column per snapshot.
  const int cols = m_frames.size();
  m_map->data()->setSize(cols, kBins);
  const double e0 = m_frames.front().epoch, e1 = std::max(m_frames.back().epoch, e0 + 1e-3);
  m_map->data()->setRange(QCPRange(e0, e1), QCPRange(width / 2, m_max - width / 2));
  for (int c = 0; c < cols; ++c)
    for (int b = 0; b < kBins; ++b) m_map->data()->setCell(c, b, std::log1p(m_hists[c][b]));
  m_map->rescaleDataRange(true);
  m_heatPlot->xAxis->setRange(e0, e1);
  m_heatPlot->yAxis->setRange(0, m_max);
  m_histPlot->replot(QCustomPlot::rpQueuedReplot);
  m_heatPlot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace prunelab::widgets
