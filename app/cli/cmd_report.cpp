// prunelab-cli report: the stakeholder report of a story run directory, as HTML or PDF.
// The pictures are drawn with the workbench's widgets, so this command needs the GUI
// build and runs them on Qt's offscreen platform when there is no display.

#include <QApplication>
#include <QFileInfo>
#include <cstdlib>
#include <iostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "exec/runtime.h"
#include "report/report_writer.h"
#include "report/story_report.h"
#include "util/error.h"

namespace prunelab::cli {

int runReport(int argc, char** argv) {
  CommandLine cl("report", "RUN_DIR [--out report.html|report.pdf] [options]");
  ReportOptions o;
  std::string runDir, out;
  int threads = 0;
  CLI::App& a = cl.app();
  a.add_option("RUN_DIR", runDir, "what \"Run the whole story\" writes (story.json, stage checkpoints, runs)")
      ->required();
  a.add_option("--out", out, "report file: .html (self-contained) or .pdf")->type_name("FILE")->default_str("RUN_DIR/report.html");
  a.add_flag("--no-latency", "do not measure latency (use what the run recorded)");
  a.add_option("--threads", threads, "intra-op threads for the latency measurement")
      ->type_name("N")
      ->default_str("all cores");
  if (argc <= 2) {  // no run directory: the help, as a usage error
    std::cout << cl.help();
    return 2;
  }
  if (!cl.parse(argc, argv)) return 0;
  configureThreads(threads);
  if (!std::getenv("DISPLAY") && !std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  int qtArgc = 1;
  char* qtArgv[] = {argv[0], nullptr};
  QApplication app(qtArgc, qtArgv);
  o.measureLatency = o.measureLatency && !cl.has("--no-latency");
  const StoryReport story = collectStoryReport(runDir, o);
  const QString file = QString::fromStdString(cl.has("--out") ? out : runDir + "/report.html");
  report::writeReport(story, {file});
  std::cout << "wrote " << file.toStdString() << " (" << QFileInfo(file).size() / 1024 << " KB)\n";
  return 0;
}

}  // namespace prunelab::cli
