#pragma once
// The report's pictures, drawn offscreen with the workbench's own chart code (widgets/charts.h:
// the γ histogram and the curves the panels draw, NetworkGraphView) into images. Plain Qt
// values in, images out: no torch here.
// Thread: GUI thread (a QApplication must exist; the offscreen platform is enough).

#include <QImage>
#include <QSize>
#include <QStringList>
#include <QVector>

#include "widgets/charts.h"
#include "widgets/view_model.h"

namespace prunelab::report {

// The BN gammas panel's histogram (widgets::drawHistogram), e.g. before and after sparse training.
QImage histogramChart(const widgets::HistogramChart& chart, QSize size);

// The Curves panel's curves (widgets::drawCurves), e.g. the story's epochs with its stages marked.
QImage curvesChart(const widgets::CurveChart& chart, QSize size);

// Output channels per layer, before and after, as horizontal bars (one row per layer).
QImage channelsChart(const QStringList& layers, const QVector<double>& before, const QVector<double>& after, QSize size);

// The network as the workbench draws it (blocks coloured by the share of channels cut).
// Waits for the Graphviz layout (at most `timeoutMs`); a null image if it fails.
QImage networkPicture(const widgets::NetworkView& view, QSize size, int timeoutMs = 30000);

}  // namespace prunelab::report
