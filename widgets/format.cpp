#include "widgets/format.h"

#include <cmath>

namespace prunelab::widgets {

QString formatCount(double v) {
  const double a = std::fabs(v);
  if (a >= 1e9) return QString::number(v / 1e9, 'f', 2) + " G";
  if (a >= 1e6) return QString::number(v / 1e6, 'f', 2) + " M";
  if (a >= 1e3) return QString::number(v / 1e3, 'f', 1) + " K";
  return QString::number(v, 'f', 0);
}

QString formatBytes(double b) {
  if (b >= 1024.0 * 1024.0) return QString::number(b / (1024.0 * 1024.0), 'f', 2) + " MB";
  if (b >= 1024.0) return QString::number(b / 1024.0, 'f', 1) + " KB";
  return QString::number(b, 'f', 0) + " B";
}

QString formatDuration(double s) {
  if (s < 0 || !std::isfinite(s)) return "-";
  const qint64 t = static_cast<qint64>(std::llround(s));
  if (t < 60) return QString("%1 s").arg(t);
  if (t < 3600) return QString("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
  return QString("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60, 2, 10, QChar('0'));
}

QString formatChange(double before, double after) {
  if (before == 0) return "-";
  const double pct = (after - before) / before * 100.0;
  return QString("%1%2 %").arg(pct > 0 ? "+" : "").arg(pct, 0, 'f', 1);
}

}  // namespace prunelab::widgets
