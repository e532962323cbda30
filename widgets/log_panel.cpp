#include "widgets/log_panel.h"

#include <QScrollBar>
#include <QTime>

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
  if (level == Level::Warning) colour = "#a06000", tag = "warning: ";
  if (level == Level::Error) {
    colour = "#c00000", tag = "error: ";
    ++m_errors;
    m_lastError = text;
  }
  appendHtml(QString("<span style='color:#808080'>%1</span> <span style='color:%2'>%3%4</span>")
                 .arg(time, colour, tag, text.toHtmlEscaped()));
  verticalScrollBar()->setValue(verticalScrollBar()->maximum());  // newest message in view
}

}  // namespace prunelab::widgets
