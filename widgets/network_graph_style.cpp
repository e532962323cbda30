// NetworkGraphView's colours, box text, tooltips and legend. GUI thread.
#include <QComboBox>
#include <QFontMetrics>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <algorithm>

#include "widgets/format.h"
#include "widgets/graph_palette.h"
#include "widgets/network_graph_view.h"

namespace prunelab::widgets {

void NetworkGraphView::setColorMode(ColorMode mode) {
  m_mode = mode;
  if (m_colour->currentIndex() != static_cast<int>(mode)) m_colour->setCurrentIndex(static_cast<int>(mode));
  updateLegend();
  recolour();
}

// A small pixmap legend next to the combo: a scale (or swatches) plus the grey of "no data".
void NetworkGraphView::updateLegend() {
  const double dpr = devicePixelRatioF();
  QFont f = font();
  f.setPointSizeF(std::max(7.0, f.pointSizeF() - 1));
  const QFontMetrics fm(f);
  const int h = fm.height() + 4, bar = 70;
  QPixmap pm(QSize(380, h) * dpr);
  pm.setDevicePixelRatio(dpr);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.setFont(f);
  p.setPen(palette().color(QPalette::WindowText));
  int x = 6;
  auto text = [&](const QString& s) {
    p.drawText(QRect(x, 0, fm.horizontalAdvance(s) + 2, h), Qt::AlignVCenter, s);
    x += fm.horizontalAdvance(s) + 6;
  };
  auto swatch = [&](const QColor& c) {
    p.fillRect(QRect(x, 3, 12, h - 6), c);
    p.drawRect(QRect(x, 3, 12, h - 6));
    x += 16;
  };
  auto scale = [&](auto colourAt) {
    for (int i = 0; i < bar; ++i) p.fillRect(QRect(x + i, 3, 1, h - 6), colourAt(double(i) / (bar - 1)));
    p.drawRect(QRect(x, 3, bar, h - 6));
    x += bar + 6;
  };
  switch (m_mode) {
    case ColorMode::PruneRatio:
      text("kept");
      scale([](double t) { return pruneColour(t); });
      text("pruned");
      break;
    case ColorMode::Importance:
      text("low");
      scale([](double t) { return importanceColour(t); });
      text("high");
      break;
    case ColorMode::Group:
      for (int g = 0; g < 5; ++g) swatch(groupColour(g));
      text("pruned together");
      break;
  }
  x += 6;
  swatch(kNoData);
  text("no channels");
  p.end();
  m_legend->setPixmap(pm);
}

QColor NetworkGraphView::colourOf(const GraphUnit& u) const {
  int channels = 0, kept = 0, group = -2, scored = 0;
  double importance = 0;
  const bool groups = u.block && hasGroups(m_net);
  for (int i : u.nodes) {
    const GraphNodeInfo& n = m_net.nodes[i];
    if (u.block && !countsInBlock(n, groups)) continue;  // a block is summarised by its prunable convs
    channels += n.channels;
    kept += n.kept;
    if (n.group >= 0) importance += n.importance, ++scored;
    group = group == -2 ? n.group : (group == n.group ? group : -1);
  }
  switch (m_mode) {
    case ColorMode::PruneRatio:
      return channels > 0 ? pruneColour(1.0 - double(kept) / channels) : kNoData;
    case ColorMode::Importance:
      return scored ? importanceColour(importance / scored) : kNoData;
    case ColorMode::Group:
      return groupColour(group);  // a block spanning several groups is grey
  }
  return Qt::white;
}

// Box text: op (and kept/total) over the name; a block: its scope over MACs and the kept/total
// channels of its prunable convs.
QStringList NetworkGraphView::linesOf(const GraphUnit& u) const {
  if (!u.block) {
    const GraphNodeInfo& n = m_net.nodes[u.nodes[0]];
    return {n.channels > 0 ? QString("%1  %2/%3").arg(n.op).arg(n.kept).arg(n.channels) : n.op, n.name};
  }
  const BlockSummary s = summarise(u, m_net);
  QStringList second;
  if (s.macs > 0) second << formatCount(double(s.macs)) + " MACs";  // 0: not counted (the report's network)
  if (s.channels > 0) second << QString("%1/%2").arg(s.kept).arg(s.channels);
  if (second.isEmpty()) return {u.scope()};
  return {u.scope(), second.join("  ")};
}

QString NetworkGraphView::tooltipOf(const GraphUnit& u) const {
  if (!u.block) {
    const GraphNodeInfo& n = m_net.nodes[u.nodes[0]];
    QString t = QString("<b>%1</b> (%2)<br>output %3").arg(n.name, n.op, n.shape.isEmpty() ? "-" : n.shape);
    if (n.channels > 0) t += QString("<br>channels kept %1 / %2").arg(n.kept).arg(n.channels);
    t += "<br>MACs " + formatCount(double(n.macs));
    if (n.group >= 0) t += QString("<br>dependency group %1, importance %2").arg(n.group).arg(n.importance, 0, 'f', 2);
    return t + "<br><i>double-click: collapse its block</i>";
  }
  const BlockSummary s = summarise(u, m_net);
  return QString("<b>%1</b><br>%2 nodes, %3 prunable conv/linear<br>channels kept %4 / %5<br>MACs %6<br>"
                 "<i>double-click or zoom in: its nodes</i>")
      .arg(u.scope())
      .arg(u.nodes.size())
      .arg(s.convs)
      .arg(s.kept)
      .arg(s.channels)
      .arg(formatCount(double(s.macs)));
}

}  // namespace prunelab::widgets
