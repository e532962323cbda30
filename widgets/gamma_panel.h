#pragma once
// GammaPanel: BatchNorm |gamma| - the Network Slimming signal - for all BN layers or the
// selected ones. Top: a histogram of the newest snapshot (linear or log counts) with
// mean |gamma| and the share below 0.01; bottom: every snapshot over training time as a
// heat map (x: epoch, y: |gamma|, colour: log count), like TensorBoard's distributions,
// so a sparse run shows mass flowing towards zero while sr is tuned.
// Thread: GUI thread. addFrame() is cheap (one histogram per frame, replot queued).

#include <QStringList>
#include <QVector>
#include <QWidget>

#include "widgets/view_model.h"

class QCheckBox;
class QCPColorMap;
class QCustomPlot;
class QLabel;

namespace prunelab::widgets {

class GammaPanel : public QWidget {
  Q_OBJECT
 public:
  explicit GammaPanel(QWidget* parent = nullptr);

  void addFrame(const GammaFrame& frame);
  void setSelectedLayers(const QStringList& bnNames);  // empty: all layers
  void clear();

  int frameCount() const { return m_frames.size(); }
  // The newest snapshot's epoch (0 without one): a new structure's first frame continues it.
  double lastEpoch() const;
  QString statsText() const;  // the line above the histogram
  QVector<double> histogramCounts() const;  // newest frame, selected layers
  double meanAbsGamma() const { return m_mean; }
  static constexpr int kBins = 60;

 private:
  QVector<double> histogram(const GammaFrame& f) const;
  void rebuild();      // all histograms (selection or range changed)
  void redraw();

  QVector<GammaFrame> m_frames;
  QVector<QVector<double>> m_hists;  // per frame, for the current selection
  QStringList m_selected;
  double m_max = 1.0;  // histogram range [0, m_max]
  double m_mean = 0.0;
  int m_stride = 1;               // after each thinning only every m_stride-th frame is stored...
  int m_arrivals = 0;             // ...counted from the last thinning
  bool m_lastProvisional = false;  // the newest frame is off-stride: the next one replaces it

  QCustomPlot* m_histPlot;
  QCustomPlot* m_heatPlot;
  QCPColorMap* m_map;
  QCheckBox* m_log;
  QLabel* m_stats;
};

}  // namespace prunelab::widgets
