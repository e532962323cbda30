#pragma once
// The workbench's colours by meaning, defined once: every panel and the report ask for
// "kept" or "before", never for an RGB value, so the same thing has the same colour in the
// Channels bars, the Compare chart, the γ histogram, the curves, the network and the report.
//
//   kept / after   blue   channels a plan keeps; the current (pruned, sparse) model
//   pruned         red    channels a plan removes; the pruned-now probe; the end of cost()
//   pinned         grey   channels that can never be removed (feed an output, protected)
//   threshold      orange the global score threshold of a plan
//   before         light grey  the model before the first cut (or before sparse training)
//   gamma          blue   BN |γ| of the model as it is now (= after)
//   train, val, metric, sparse   the training curves: train loss, validation loss, the task's
//                  metric (top-1 or mAP50-95), sr and the sparse fraction
//   warning, error, muted        message text: attention, failure, secondary information
//
// The graph view's own scales (importance, dependency groups, box greys) are in
// graph_palette.h; its prune-ratio scale is cost() below.
// Thread: any (plain values).

#include <QColor>
#include <QSet>
#include <QString>

namespace prunelab::widgets::palette {

QColor kept();
QColor pruned();
QColor pinned();
QColor threshold();
QColor before();
QColor after();   // kept(): what is left after the cut
QColor gamma();   // after(): the γ the model has now

QColor train();   // "train/loss"
QColor val();     // "val/loss"
QColor metric();  // the task's metric: "val/top1", "metrics/mAP50-95"
QColor sparse();  // "sr" and the sparse fraction

QColor warning();
QColor error();
QColor muted();

// White (0) to pruned() (1), t clamped: the share of channels cut, the ratio typed for a
// layer, the metric a sensitivity cell loses - how much a cut takes or costs.
QColor cost(double t);

// Categorical colours for curves without a meaning of their own, in order; the first five
// are train(), val(), metric(), pruned() and sparse(). i wraps around kSeriesColours.
inline constexpr int kSeriesColours = 10;
QColor series(int i);

// A training curve's colour by its name as the trainer writes it: "train/loss" train(),
// "val/loss" val(), "val/top1" and "metrics/mAP50-95..." metric(), "pruned_now/..." pruned(),
// "sr" sparse(), "step/loss" a faint train(). A name without a meaning, or whose colour is
// already `taken` by another curve of the chart, gets the first series() colour not taken.
QColor curve(const QString& name, const QSet<QRgb>& taken);

// For HTML and style sheets: "#rrggbb".
inline QString css(const QColor& c) { return c.name(QColor::HexRgb); }

}  // namespace prunelab::widgets::palette
