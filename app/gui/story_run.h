#pragma once
// StoryRun: "Run the whole story" - the loop a user would click through, unattended:
//   save + evaluate the model as opened -> sparse-train (BN-L1) -> bn scores, global
//   percent, Apply -> evaluate -> fine-tune -> evaluate -> Compare -> export (.plm and a
//   BN-folded ONNX) -> story.json -> report.html + report.pdf.
// Every step goes through the same Workbench calls the buttons make. The run directory's
// layout is the one report/story_report.h reads, so `prunelab-cli report DIR` rebuilds
// the report. Progress: a status-bar label with the whole story's share done and an ETA
// (training stages weighted by their epochs).
// Thread: GUI thread. Owned by the Workbench; one story at a time.

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <functional>
#include <map>
#include <vector>

#include "report/story_manifest.h"
#include "session/story_plan.h"

class QLabel;
class QTimer;

namespace prunelab::gui {

class Workbench;

struct StoryOptions {
  int sparseEpochs = 2;
  int fineTuneEpochs = 2;
  double percent = 0.4;   // bn global percent (the prune panel's value wins when set)
  QString shotsDir;       // a screenshot after each stage, when not empty
  QString runDir;         // default: a new folder under the runs directory
};

class StoryRun : public QObject {
  Q_OBJECT
 public:
  StoryRun(Workbench& bench, const StoryOptions& options, QObject* parent = nullptr);
  void start();
  QString runDir() const { return m_dir; }
  double fraction() const;  // of the whole story, 0..1

 Q_SIGNALS:
  void finished(bool ok, const QString& reportPath);

 private:
  bool prepare();    // the run directory, the status label; false (and failed) when it cannot start
  StoryPlan plan();  // also fills the manifest's settings and commands
  void stage(const QString& name, double weight);
  void shot(const QString& name, std::function<void()> next);
  void save(const QString& file);
  // Saves the current model as `file` and records its validation metric under `stageName`.
  void saveAndEvaluate(const QString& stageName, const QString& file);
  void runNext();
  void writeReport();
  void writeManifest();
  void updateStatus();
  void fail(const QString& why);

  struct Step {
    QString stage;   // starts a new progress stage when not empty
    double weight;   // the stage's share of the whole story
    std::function<void()> run;
    QString shot;    // screenshot name taken when the step's work is done (may be empty)
  };

  Workbench& m_bench;
  std::vector<Step> m_steps;
  size_t m_next = 0;
  StoryOptions m_opt;
  QString m_dir;
  StoryManifest m_manifest;          // story.json, completed at the end
  std::map<QString, double> m_metric;
  double m_doneWeight = 0, m_stageWeight = 0;
  double m_trainProgress = 0;  // of the current training stage, 0..1
  QString m_stageName;
  QElapsedTimer m_clock;
  QPointer<QLabel> m_status;
  QTimer* m_tick = nullptr;
  bool m_failed = false;
};

}  // namespace prunelab::gui
