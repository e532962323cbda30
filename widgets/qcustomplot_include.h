#pragma once
// QCustomPlot's header uses Qt's `signals`, `slots`, `emit` and `foreach` keywords, which
// this project turns off (QT_NO_KEYWORDS: LibTorch's headers use `slots` as a name).
// Panels include QCustomPlot through this file, which maps the keywords for it alone.
// Never include it from a file that also includes torch.

#define signals Q_SIGNALS
#define slots Q_SLOTS
#define emit Q_EMIT
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef foreach
#undef emit
#undef slots
#undef signals
