// prunelab-cli report: the stakeholder report of a story run directory, as HTML or PDF.
// The pictures are drawn with the workbench's widgets, so this command needs the GUI
// build and runs them on Qt's offscreen platform when there is no display.

#include <QApplication>
#include <QFileInfo>
#include <cstdlib>
#include <iostream>

#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "exec/runtime.h"
#include "report/report_writer.h"
#include "report/story_report.h"
#include "util/error.h"

namespace prunelab::cli {

int runReport(int argc, char** argv) {
  ArgParser p;
  p.option("--out", true, "report file: .html (self-contained) or .pdf (default RUN_DIR/report.html)")
      .option("--no-latency", false, "do not measure latency (use what the run recorded)")
      .option("--threads", true, "intra-op threads for the latency measurement (default: all cores)")
      .option("--help", false, "show this help");
  if (argc < 3 || std::string(argv[2]) == "--help") {
    std::cout << "usage: prunelab-cli report RUN_DIR [--out report.html|report.pdf]\n\n"
                 "RUN_DIR is what \"Run the whole story\" writes (story.json, stage checkpoints, runs).\n\n"
              << p.help();
    return argc < 3 ? 2 : 0;
  }
  const std::string runDir = argv[2];
  p.parse(argc, argv, 3);
  configureThreads(static_cast<int>(p.getInt("--threads", 0)));
  if (!std::getenv("DISPLAY") && !std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  int qtArgc = 1;
  char* qtArgv[] = {argv[0], nullptr};
  QApplication app(qtArgc, qtArgv);
  ReportOptions o;
  o.measureLatency = !p.has("--no-latency");
  const StoryReport story = collectStoryReport(runDir, o);
  const QString out = p.has("--out") ? QString::fromStdString(p.get("--out")) : QString::fromStdString(runDir + "/report.html");
  report::writeReport(story, {out});
  std::cout << "wrote " << out.toStdString() << " (" << QFileInfo(out).size() / 1024 << " KB)\n";
  return 0;
}

}  // namespace prunelab::cli
