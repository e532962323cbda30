#pragma once
// ChannelsPanel: the channels of the selected layer as bars of importance - blue kept,
// red planned for removal, grey pinned - with the global threshold as a line. A click
// toggles one channel; dragging across bars toggles a range (all set to the opposite of
// the first one). The panel never edits its own data: it emits channelsToggled() and the
// owner recomputes the plan and calls setChannels() again.
// Thread: GUI thread.

#include <QVector>
#include <QWidget>

#include "widgets/view_model.h"

class QCheckBox;
class QCPBars;
class QCPItemStraightLine;
class QCustomPlot;
class QLabel;
class QMouseEvent;
class QRubberBand;

namespace prunelab::widgets {

class ChannelsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ChannelsPanel(QWidget* parent = nullptr);

  void setChannels(const ChannelScores& channels);
  const ChannelScores& channels() const { return m_data; }

  // For tests: the centre of channel k's bar in plot-widget coordinates, and that widget.
  QPoint barCenter(int channel) const;
  QWidget* plotWidget() const;
  void layoutNow();  // replots at once (normally queued), so barCenter() is current

 Q_SIGNALS:
  void channelsToggled(const QString& layer, const QVector<int>& channels, bool prune);

 private:
  void redraw();
  int channelAt(int x) const;  // widget x -> channel (-1 outside)
  void onPress(QMouseEvent* e);
  void onMove(QMouseEvent* e);
  void onRelease(QMouseEvent* e);

  ChannelScores m_data;
  QVector<int> m_order;  // bar position -> channel
  QCustomPlot* m_plot;
  QCPBars* m_prunedBack;  // hatched full-height columns behind pruned bars
  QCPBars* m_kept;
  QCPBars* m_pruned;
  QCPBars* m_pinned;
  QCPItemStraightLine* m_threshold;
  QCheckBox* m_sorted;
  QLabel* m_title;
  QRubberBand* m_band;
  int m_pressX = -1;
};

}  // namespace prunelab::widgets
