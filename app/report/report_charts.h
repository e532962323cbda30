#pragma once
// The report's pictures, drawn offscreen with the workbench's own plotting (QCustomPlot,
// NetworkGraphView) into images. Plain Qt values in, images out: no torch here.
// Thread: GUI thread (a QApplication must exist; the offscreen platform is enough).

#include <QImage>
#include <QSize>
#include <QString>
#include <QStringList>
#include <QVector>

#include "widgets/view_model.h"

namespace prunelab::report {

// Two distributions of the same quantity as overlaid histograms (shared bins).
QImage histogramChart(const QVector<double>& a, const QString& aName, const QVector<double>& b, const QString& bName,
                      const QString& xLabel, QSize size);

struct CurveSeries {
  QString name;
  QVector<double> x, y;
  bool rightAxis = false;  // plotted against the right-hand axis
};
// Line chart of per-epoch series; `marks` draws labelled vertical lines (stage changes).
QImage curvesChart(const QVector<CurveSeries>& series, const QString& xLabel, const QString& leftLabel,
                   const QString& rightLabel, const QVector<QPair<double, QString>>& marks, QSize size);

// Output channels per layer, before and after, as horizontal bars (one row per layer).
QImage channelsChart(const QStringList& layers, const QVector<double>& before, const QVector<double>& after, QSize size);

// The network as the workbench draws it (blocks coloured by the share of channels cut).
// Waits for the Graphviz layout (at most `timeoutMs`); a null image if it fails.
QImage networkPicture(const widgets::NetworkView& view, QSize size, int timeoutMs = 30000);

}  // namespace prunelab::report
