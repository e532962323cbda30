#pragma once
// The stakeholder report of a story run: one self-contained HTML file (pictures inline as
// data URIs) and the same content as PDF (QTextDocument printed by QPdfWriter).
// Sections: summary, before/after table (params, MACs, size, measured latency, top-1 or
// mAP), channels per layer before/after, BN-gamma histograms before and after sparse
// training, training curves, the pruned network, and the command lines that reproduce it.
// Thread: GUI thread (charts are drawn with widgets; a QApplication must exist).

#include <QStringList>

#include "report/story_report.h"

namespace prunelab::report {

// Writes each of `paths` as HTML (.html/.htm) or PDF (.pdf), atomically, from pictures
// drawn once; throws prunelab::Error naming the path for another extension or a failure.
void writeReport(const StoryReport& story, const QStringList& paths);

}  // namespace prunelab::report
