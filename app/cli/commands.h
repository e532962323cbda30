#pragma once
// prunelab-cli subcommands. Each takes argv after the subcommand name and returns the
// process exit code; errors are thrown as prunelab::Error and reported by main().

namespace prunelab::cli {

int runInfo(int argc, char** argv);
int runInfer(int argc, char** argv);
int runTrain(int argc, char** argv);
int runEval(int argc, char** argv);
int runPrune(int argc, char** argv);
int runMakeDataset(int argc, char** argv);
int runExport(int argc, char** argv);
int runReport(int argc, char** argv);  // GUI builds only (PRUNELAB_HAVE_REPORT)

}  // namespace prunelab::cli
