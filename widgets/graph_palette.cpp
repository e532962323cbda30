#include "widgets/graph_palette.h"

#include <algorithm>
#include <cmath>

#include "widgets/palette.h"

namespace prunelab::widgets {

QColor mix(const QColor& a, const QColor& b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  return QColor::fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                          a.blueF() + (b.blueF() - a.blueF()) * t);
}

QColor pruneColour(double prunedShare) { return palette::cost(prunedShare); }

// Viridis-like: perceptually ordered dark purple -> teal -> yellow, readable for colour-blind users.
QColor importanceColour(double v) {
  static const QColor stops[] = {QColor(68, 1, 84), QColor(59, 82, 139), QColor(33, 145, 140), QColor(94, 201, 98),
                                 QColor(253, 231, 37)};
  v = std::clamp(v, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(v));
  return mix(stops[i], stops[i + 1], v - i);
}

// Categorical: hues spaced by the golden angle so neighbouring group ids differ clearly.
QColor groupColour(int group) {
  if (group < 0) return kNoData;
  return QColor::fromHsv(static_cast<int>(std::fmod(group * 137.508, 360.0)), 120 + (group % 3) * 30, 240);
}

}  // namespace prunelab::widgets
