#include "widgets/compare_panel.h"

#include "widgets/qcustomplot_include.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QTableWidget>
#include <cmath>

#include "widgets/format.h"
#include "widgets/palette.h"

namespace prunelab::widgets {

namespace {
constexpr int kMaxLayers = 40;  // above this only the layers that changed are drawn
}

ComparePanel::ComparePanel(QWidget* parent)
    : QWidget(parent), m_table(new QTableWidget(5, 3, this)), m_plot(new QCustomPlot(this)) {
  m_table->setHorizontalHeaderLabels({"Before", "After", "Change"});
  m_table->setVerticalHeaderLabels({"Params", "MACs", "Size", "Latency (b1)", "Metric"});
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->setMinimumWidth(300);
  m_table->setMaximumWidth(380);
  m_table->setFocusPolicy(Qt::NoFocus);  // a read-only summary: no current-cell highlight
  m_table->setSelectionMode(QAbstractItemView::NoSelection);
  // Horizontal bars: layer names read left to right on the key (y) axis.
  m_before = new QCPBars(m_plot->yAxis, m_plot->xAxis);
  m_after = new QCPBars(m_plot->yAxis, m_plot->xAxis);
  m_before->setName("before");
  m_after->setName("after");
  m_before->setBrush(palette::before());
  m_after->setBrush(palette::after());
  m_before->setPen(Qt::NoPen);
  m_after->setPen(Qt::NoPen);
  auto* group = new QCPBarsGroup(m_plot);
  group->setSpacing(1);  // a pair touches; the gap between layers is wider than inside a pair
  m_before->setBarsGroup(group);
  m_after->setBarsGroup(group);
  m_before->setWidth(0.36);
  m_after->setWidth(0.36);
  m_plot->legend->setVisible(true);
  m_plot->legend->setFont(QFont(font().family(), 7));
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);  // early layers are narrow
  m_plot->xAxis->setLabel("channels");
  m_plot->yAxis->setTickLabelFont(QFont(font().family(), 7));
  m_plot->yAxis->setRangeReversed(true);  // first layer on top
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->axisRect()->setRangeDrag(Qt::Vertical);
  m_plot->axisRect()->setRangeZoom(Qt::Vertical);
  // Tick labels are thinned to the axis rect's height, known only once the plot is laid out.
  connect(m_plot, &QCustomPlot::afterLayout, this, [this] { updateTicks(false); });
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(m_table);
  layout->addWidget(m_plot, 1);
  setData(CompareData{});
}

void ComparePanel::setData(const CompareData& d) {
  m_data = d;
  auto set = [this](int row, const QString& before, const QString& after, const QString& change) {
    const QString cells[] = {before, after, change};
    for (int c = 0; c < 3; ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      m_table->setItem(row, c, item);
    }
  };
  // Negative means unknown (latency not measured): that side and the change show "-".
  auto row = [&](int r, double b, double a, auto fmt) {
    if (b <= 0 && a <= 0) return set(r, "-", "-", "-");
    const QString change = b <= 0 || a < 0 ? QString("-") : formatChange(b, a);
    set(r, b < 0 ? QString("-") : fmt(b), a < 0 ? QString("-") : fmt(a), change);
  };
  row(0, double(d.before.params), double(d.after.params), [](double v) { return formatCount(v); });
  row(1, double(d.before.macs), double(d.after.macs), [](double v) { return formatCount(v); });
  row(2, double(d.before.sizeBytes), double(d.after.sizeBytes), [](double v) { return formatBytes(v); });
  row(3, d.before.latencyMs, d.after.latencyMs, [](double v) { return QString::number(v, 'f', 2) + " ms"; });
  m_table->setVerticalHeaderItem(4, new QTableWidgetItem(d.metricName.isEmpty() ? "Metric" : d.metricName));
  if (d.metricBefore >= 0 && d.metricAfter >= 0) {
    const bool fraction = d.metricBefore <= 1.0 && d.metricAfter <= 1.0;
    auto f = [fraction](double v) { return fraction ? QString::number(v * 100, 'f', 2) + " %" : QString::number(v, 'f', 4); };
    set(4, f(d.metricBefore), f(d.metricAfter),
        QString("%1%2 pp").arg(d.metricAfter >= d.metricBefore ? "+" : "").arg((d.metricAfter - d.metricBefore) * 100, 0, 'f', 2));
  } else {
    set(4, "-", "-", "-");
  }

  QVector<CompareLayer> layers = d.layers;
  if (layers.size() > kMaxLayers) {
    QVector<CompareLayer> changed;
    for (const auto& l : layers)
      if (l.before != l.after) changed << l;
    layers = changed;
  }
  QVector<double> keys, before, after;
  m_shown = layers;
  for (int i = 0; i < layers.size(); ++i) {
    keys << i;
    before << layers[i].before;
    after << layers[i].after;
  }
  updateTicks(true);
  m_before->setData(keys, before, true);
  m_after->setData(keys, after, true);
  m_plot->yAxis->setRange(-0.8, std::max<int>(1, layers.size()) - 0.2);
  double top = 1;
  for (double v : before) top = std::max(top, v);
  m_plot->xAxis->setRange(0, top * 1.1);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

// Layer names on the key axis, thinned to every k-th so that labels never overlap.
void ComparePanel::updateTicks(bool force) {
  const int rowPixels = 11;
  const int height = std::max(40, m_plot->axisRect()->height());
  const int step = std::max(1, static_cast<int>(std::ceil(m_shown.size() * rowPixels / double(height))));
  if (step == m_tickStep && !force) return;  // also ends the afterLayout -> replot -> afterLayout loop
  m_tickStep = step;
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (int i = 0; i < m_shown.size(); i += step) ticker->addTick(i, m_shown[i].name);
  m_plot->yAxis->setTicker(ticker);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace prunelab::widgets
