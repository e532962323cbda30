#pragma once
// Number formatting shared by the panels: "1.23 M", "4.5 G", "12 s", "3 min 05 s".

#include <QString>
#include <QtGlobal>

namespace prunelab::widgets {

QString formatCount(double value);        // 11181642 -> "11.18 M"
QString formatBytes(double bytes);        // -> "42.7 MB"
QString formatDuration(double seconds);   // <0 -> "-"
QString formatChange(double before, double after);  // "-38.2 %"

}  // namespace prunelab::widgets
