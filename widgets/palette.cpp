#include "widgets/palette.h"

#include <algorithm>

namespace prunelab::widgets::palette {

QColor kept() { return {40, 110, 190}; }
QColor pruned() { return {215, 60, 50}; }
QColor pinned() { return {110, 110, 110}; }
QColor threshold() { return {230, 140, 0}; }
QColor before() { return {170, 170, 170}; }
QColor after() { return kept(); }
QColor gamma() { return after(); }

QColor train() { return {31, 119, 180}; }
QColor val() { return {255, 127, 14}; }
QColor metric() { return {44, 160, 44}; }
QColor sparse() { return {148, 103, 189}; }

QColor warning() { return {179, 107, 0}; }
QColor error() { return {192, 57, 43}; }
QColor muted() { return {97, 112, 125}; }

QColor cost(double t) {
  const float f = static_cast<float>(std::clamp(t, 0.0, 1.0));
  const QColor red = pruned();
  return QColor::fromRgbF(1.0f + (red.redF() - 1.0f) * f, 1.0f + (red.greenF() - 1.0f) * f, 1.0f + (red.blueF() - 1.0f) * f);
}

QColor series(int i) {
  // The first five carry the curves' meanings; the rest are Tableau 10's other hues.
  static const QColor rest[] = {QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                                QColor(23, 190, 207)};
  i = ((i % kSeriesColours) + kSeriesColours) % kSeriesColours;
  switch (i) {
    case 0: return train();
    case 1: return val();
    case 2: return metric();
    case 3: return pruned();
    case 4: return sparse();
    default: return rest[i - 5];
  }
}

namespace {

QColor meaningOf(const QString& name) {
  if (name == "train/loss") return train();
  if (name == "step/loss") return QColor(160, 190, 225);  // every step's loss: a faint train()
  if (name == "val/loss") return val();
  if (name == "val/top1" || name.startsWith("metrics/mAP50-95")) return metric();
  if (name.startsWith("pruned_now/")) return pruned();
  if (name == "sr") return sparse();
  return {};
}

}  // namespace

QColor curve(const QString& name, const QSet<QRgb>& taken) {
  const QColor meaning = meaningOf(name);
  if (meaning.isValid() && !taken.contains(meaning.rgb())) return meaning;
  // The colours without a meaning first, so that a later "train/loss" still finds train() free.
  for (int k = 0; k < kSeriesColours; ++k)
    if (!taken.contains(series(5 + k).rgb())) return series(5 + k);
  return series(static_cast<int>(taken.size()));
}

}  // namespace prunelab::widgets::palette
