// prunelab-cli: every PruneLab step, headless, on the same core as the GUI.
//
// Exit codes (README "Command line", man page): 0 ok; 1 a request that cannot be done
// (the message names the file, option, layer...); 2 a command line that cannot be
// understood (no or unknown command, unknown option, missing or malformed value, missing
// required option); 3 an internal error; 130 a training run stopped by SIGINT/SIGTERM.

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/usage_error.h"

namespace {

void printUsage(std::ostream& out) {
  out << "PruneLab " PRUNELAB_VERSION " - structured channel pruning workbench (command line)\n\n"
         "usage: prunelab-cli COMMAND [options]         (prunelab-cli COMMAND -h: its options and defaults)\n"
         "       prunelab-cli COMMAND key=value ...     (ultralytics style: train model=yolov8n.yaml epochs=3)\n"
         "       prunelab-cli --version\n\n"
         "commands:\n";
  for (const auto& c : prunelab::cli::commandTable()) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-14s %s\n", c.name, c.summary);
    out << line;
  }
  out << "\nexit codes: 0 ok, 1 error (the message names the file, option or layer), 2 usage,\n"
         "            3 internal error, 130 training stopped by a signal (checkpoint kept)\n";
}

// "PATH: cannot create directories: Not a directory" from libstdc++'s
// "filesystem error: cannot create directories: Not a directory [PATH]".
std::string describe(const std::filesystem::filesystem_error& e) {
  std::string what = e.what();
  const std::string prefix = "filesystem error: ";
  if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
  if (const auto bracket = what.find(" ["); bracket != std::string::npos) what.erase(bracket);
  return e.path1().empty() ? what : e.path1().string() + ": " + what;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    printUsage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "prunelab-cli " PRUNELAB_VERSION "\n";
    return 0;
  }
  const std::string command = argv[1];
  const prunelab::cli::Command* found = nullptr;
  for (const auto& c : prunelab::cli::commandTable())
    if (command == c.name) found = &c;
  if (!found) {
    std::cerr << "prunelab-cli: unknown command '" << command << "'\n\n";
    printUsage(std::cerr);
    return 2;
  }
  try {
    return found->run(argc, argv);
  } catch (const prunelab::cli::UsageError& e) {
    std::cerr << "prunelab-cli " << command << ": usage error: " << e.what() << "\n"
              << "(prunelab-cli " << command << " --help lists the options)\n";
    return 2;
  } catch (const prunelab::Error& e) {
    std::cerr << "prunelab-cli " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the system refuses (a file where a folder must be, no permission, a full
    // disk) is the user's to fix, not an internal error: name the path and the reason.
    std::cerr << "prunelab-cli " << command << ": error: " << describe(e) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "prunelab-cli " << command << ": internal error: " << e.what() << "\n";
    return 3;
  }
}
