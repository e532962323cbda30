#include "widgets/channels_panel.h"

#include "widgets/palette.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QRubberBand>
#include <QVBoxLayout>
#include <algorithm>
#include <numeric>

namespace prunelab::widgets {

ChannelsPanel::ChannelsPanel(QWidget* parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)), m_sorted(new QCheckBox("sort by importance", this)),
      m_title(new QLabel("Select a layer", this)) {
  auto bars = [this](const QColor& c) {
    auto* b = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    b->setPen(Qt::NoPen);
    b->setBrush(c);
    b->setWidth(0.8);
    return b;
  };
  // Sparse training drives the channels to prune towards 0, so their bars are often a pixel high:
  // a hatched column behind each pruned one shows its state and where to click at any score.
  QColor hatch = palette::pruned();
  hatch.setAlpha(150);
  m_prunedBack = bars(palette::pruned());
  m_prunedBack->setBrush(QBrush(hatch, Qt::BDiagPattern));
  m_prunedBack->setSelectable(QCP::stNone);
  m_prunedBack->removeFromLegend();
  m_kept = bars(palette::kept());
  m_pruned = bars(palette::pruned());
  m_pinned = bars(palette::pinned());
  m_kept->setName("kept");
  m_pruned->setName("pruned");
  m_pinned->setName("pinned");
  m_threshold = new QCPItemStraightLine(m_plot);
  m_threshold->setPen(QPen(palette::threshold(), 1.5, Qt::DashLine));
  m_threshold->setVisible(false);
  m_plot->xAxis->setLabel("channel");
  m_plot->yAxis->setLabel("importance");
  m_plot->setToolTip("Click a bar to keep/prune that channel; drag across bars to toggle a range");
  m_band = new QRubberBand(QRubberBand::Rectangle, m_plot);

  connect(m_plot, &QCustomPlot::mousePress, this, &ChannelsPanel::onPress);
  connect(m_plot, &QCustomPlot::mouseMove, this, &ChannelsPanel::onMove);
  connect(m_plot, &QCustomPlot::mouseRelease, this, &ChannelsPanel::onRelease);
  connect(m_sorted, &QCheckBox::toggled, this, &ChannelsPanel::redraw);

  auto* top = new QHBoxLayout;
  top->addWidget(m_title, 1);
  top->addWidget(m_sorted);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(top);
  layout->addWidget(m_plot, 1);
}

QWidget* ChannelsPanel::plotWidget() const { return m_plot; }

void ChannelsPanel::layoutNow() { m_plot->replot(QCustomPlot::rpImmediateRefresh); }

void ChannelsPanel::setChannels(const ChannelScores& channels) {
  m_data = channels;
  redraw();
}

void ChannelsPanel::redraw() {
  const int n = m_data.scores.size();
  m_order.resize(n);
  std::iota(m_order.begin(), m_order.end(), 0);
  if (m_sorted->isChecked())
    std::stable_sort(m_order.begin(), m_order.end(), [this](int a, int b) { return m_data.scores[a] < m_data.scores[b]; });
  QVector<double> kx, ky, px, py, nx, ny;
  int kept = 0;
  for (int pos = 0; pos < n; ++pos) {
    const int c = m_order[pos];
    const double s = m_data.scores[c];
    if (m_data.pinned.value(c)) nx << pos, ny << s;
    else if (m_data.pruned.value(c)) px << pos, py << s;
    else kx << pos, ky << s;
    kept += !m_data.pruned.value(c);
  }
  m_kept->setData(kx, ky, true);
  m_pruned->setData(px, py, true);
  m_pinned->setData(nx, ny, true);
  m_title->setText(m_data.layer.isEmpty() ? QString("Select a layer")
                                          : QString("<b>%1</b> - kept %2 / %3 &nbsp; <span style='color:%4'>■ kept</span> "
                                                    "<span style='color:%5'>■ pruned</span> "
                                                    "<span style='color:%6'>■ pinned</span> "
                                                    "<span style='color:%7'>- - threshold</span>")
                                                .arg(m_data.layer)
                                                .arg(kept)
                                                .arg(n)
                                                .arg(palette::css(palette::kept()), palette::css(palette::pruned()),
                                                     palette::css(palette::pinned()), palette::css(palette::threshold())));
  m_threshold->setVisible(m_data.threshold >= 0);
  m_threshold->point1->setCoords(0, m_data.threshold);
  m_threshold->point2->setCoords(1, m_data.threshold);
  m_plot->xAxis->setLabel(m_sorted->isChecked() ? "channels by importance" : "channel");
  m_plot->xAxis->setRange(-0.7, std::max(1, n) - 0.3);
  double top = m_data.threshold;
  for (double s : m_data.scores) top = std::max(top, s);
  m_plot->yAxis->setRange(0, top > 0 ? top * 1.08 : 1.0);
  m_prunedBack->setData(px, QVector<double>(px.size(), m_plot->yAxis->range().upper), true);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

int ChannelsPanel::channelAt(int x) const {
  const int pos = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(x)));
  return pos >= 0 && pos < m_order.size() ? m_order[pos] : -1;
}

QPoint ChannelsPanel::barCenter(int channel) const {
  const int pos = static_cast<int>(m_order.indexOf(channel));
  if (pos < 0) return {-1, -1};
  const double s = m_data.scores.value(channel);
  return QPoint(static_cast<int>(m_plot->xAxis->coordToPixel(pos)),
                static_cast<int>(m_plot->yAxis->coordToPixel(std::max(s / 2, 0.0))));
}

void ChannelsPanel::onPress(QMouseEvent* e) {
  if (e->button() != Qt::LeftButton || m_data.scores.isEmpty()) return;
  m_pressX = e->pos().x();
  m_band->setGeometry(QRect(e->pos(), QSize()));
}

void ChannelsPanel::onMove(QMouseEvent* e) {
  if (m_pressX < 0) return;
  const QRect r = m_plot->axisRect()->rect();
  m_band->setGeometry(QRect(QPoint(std::min(m_pressX, e->pos().x()), r.top()),
                            QPoint(std::max(m_pressX, e->pos().x()), r.bottom())));
  m_band->setVisible(std::abs(e->pos().x() - m_pressX) > 4);
}

void ChannelsPanel::onRelease(QMouseEvent* e) {
  if (m_pressX < 0) return;
  const int x0 = m_pressX, x1 = e->pos().x();
  m_pressX = -1;
  m_band->hide();
  QVector<int> picked;
  bool prune = true;
  if (std::abs(x1 - x0) <= 4) {  // a click
    const int c = channelAt(x1);
    if (c < 0 || m_data.pinned.value(c)) return;
    picked << c;
    prune = !m_data.pruned.value(c);
  } else {  // a range, in bar order
    const double a = m_plot->xAxis->pixelToCoord(std::min(x0, x1)), b = m_plot->xAxis->pixelToCoord(std::max(x0, x1));
    for (int pos = std::max(0, static_cast<int>(std::ceil(a - 0.4))); pos < m_order.size() && pos <= b + 0.4; ++pos)
      if (!m_data.pinned.value(m_order[pos])) picked << m_order[pos];
    if (picked.isEmpty()) return;
    // "The first channel" is the one the drag started on (the last in bar order for a leftward drag).
    prune = !m_data.pruned.value(x1 >= x0 ? picked.front() : picked.back());
    std::sort(picked.begin(), picked.end());
  }
  Q_EMIT channelsToggled(m_data.layer, picked, prune);
}

}  // namespace prunelab::widgets
