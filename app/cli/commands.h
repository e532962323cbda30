#pragma once
// prunelab-cli subcommands. Each takes the whole argv (argv[1] is the command's name) and
// returns the process exit code. Errors are thrown and reported by main(), which maps
// them to exit codes: UsageError (cli/usage_error.h) 2, prunelab::Error 1, anything else 3.

#include <string>
#include <vector>

namespace prunelab::cli {

int runInfo(int argc, char** argv);
int runInfer(int argc, char** argv);
int runTrain(int argc, char** argv);
int runEval(int argc, char** argv);
int runPredict(int argc, char** argv);
int runPrune(int argc, char** argv);
int runSensitivity(int argc, char** argv);
int runLatencyTable(int argc, char** argv);
int runMakeDataset(int argc, char** argv);
int runExport(int argc, char** argv);
int runReport(int argc, char** argv);  // GUI builds only (PRUNELAB_HAVE_REPORT)

struct Command {
  const char* name;
  const char* summary;  // one line, for the top-level help and the command's own
  int (*run)(int argc, char** argv);
};

// Every command, in the order the top-level help lists them.
const std::vector<Command>& commandTable();

// The summary of `name` from the table ("" for an unknown name).
std::string commandSummary(const std::string& name);

}  // namespace prunelab::cli
