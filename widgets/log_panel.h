#pragma once
// LogPanel: the session's messages, newest last. Errors are red and also counted, so a
// failure in the worker is visible without a modal dialog interrupting the user.
// Thread: GUI thread.

#include <QPlainTextEdit>
#include <QString>

namespace prunelab::widgets {

class LogPanel : public QPlainTextEdit {
  Q_OBJECT
 public:
  enum class Level { Info, Warning, Error };
  explicit LogPanel(QWidget* parent = nullptr);

  void append(Level level, const QString& text);
  int errorCount() const { return m_errors; }
  QString lastError() const { return m_lastError; }

 private:
  int m_errors = 0;
  QString m_lastError;
};

}  // namespace prunelab::widgets
