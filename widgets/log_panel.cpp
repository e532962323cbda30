#include "widgets/log_panel.h"

#include <QScrollBar>
#include <QTime>

#include "widgets/palette.h"

namespace prunelab::widgets {

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setMaximumBlockCount(5000);
  setObjectName("logPanel");
}

void LogPanel::append(Level level, const QString& text) {
  const QString time = QTime::currentTime().toString("HH:mm:ss");
  QString colour = "#202020";
  QString tag;
  if (level == Level::Warning) colour = palette::css(palette::warning()), tag = "warning: ";
  if (level == Level::Error) {
    colour = palette::css(palette::error()), tag = "error: ";
    ++m_errors;
    m_lastError = text;
  }
  appendHtml(QString("<span style='color:%1'>%2</span> <span style='color:%3'>%4%5</span>")
                 .arg(palette::css(palette::muted()), time, colour, tag, text.toHtmlEscaped()));
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());  // newest message in view
}

}  // namespace prunelab::widgets
