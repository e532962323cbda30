#pragma once
// One chart per concept, drawn by the same code wherever it appears:
// - the BN |γ| histogram: the BN gammas panel (the newest snapshot) and the report (before
//   and after sparse training, overlaid);
// - the training curves: the Curves panel (live, one series at a time) and the report (the
//   story's epochs, with its stage changes marked).
// Plain values in, a QCustomPlot filled; colours come from palette.h. The report renders
// the filled plot offscreen into a picture.
// Thread: GUI thread.

#include <QColor>
#include <QString>
#include <QVector>

class QCPGraph;
class QCustomPlot;

namespace prunelab::widgets {

// ---- Histogram ----------------------------------------------------------------------
struct HistogramSeries {
  QString name;            // legend entry; empty: none
  QVector<double> counts;  // one per bin (channels, or % of channels)
  QColor colour;
};

struct HistogramChart {
  double max = 1.0;                  // the bins split [0, max] evenly
  QVector<HistogramSeries> series;   // one: solid bars; several: translucent and overlaid
  QString xLabel = "|γ|";
  QString yLabel = "channels";
  bool logCounts = false;            // logarithmic count axis (empty bins drawn at 0.5)
};

// Adds `values` to `counts` (its size is the number of bins over [0, max]); values beyond
// max land in the last bin.
void addToHistogram(QVector<double>& counts, const QVector<float>& values, double max);

// Replaces the plot's bars by `chart`'s and sets its axes and legend.
void drawHistogram(QCustomPlot& plot, const HistogramChart& chart);

// ---- Training curves ----------------------------------------------------------------
struct CurveSeries {
  QString name;   // as the trainer writes it ("train/loss", "val/top1"): picks colour and style
  QString label;  // legend entry (empty: name)
  QVector<double> x, y;
  bool rightAxis = false;  // against the right-hand value axis
};

struct CurveMark {  // a labelled vertical line (a stage change)
  double x = 0;
  QString label;
};

struct CurveChart {
  QVector<CurveSeries> series;
  QString xLabel = "epoch", yLabel, rightLabel;  // rightLabel empty: no right-hand axis
  QVector<CurveMark> marks;
};

// A curves plot laid out as the Curves panel's: the value axis labelled, the legend in a
// row of its own above the data (one row, wrapping), hidden until a curve exists.
void prepareCurvePlot(QCustomPlot& plot, const QString& yLabel, int legendPointSize);

// One curve styled by its name: pruned_now/... dashed and thicker, step/... thin lines,
// per-epoch series with dots; `colour` from palette::curve().
QCPGraph* addCurve(QCustomPlot& plot, const QString& name, const QColor& colour, bool rightAxis);

// The whole chart at once (the report): a prepared plot, its curves with their data,
// axes fitted with a margin, the marks.
void drawCurves(QCustomPlot& plot, const CurveChart& chart, int legendPointSize);

}  // namespace prunelab::widgets
