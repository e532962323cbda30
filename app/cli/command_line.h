#pragma once
// One prunelab-cli command's command line, declared with CLI11: the options bound to the
// core structs whose defaults they show in --help, `key=value` words accepted as
// `--key=value`, and CLI11's parse errors turned into UsageError (exit code 2).
//
// A command declares its options on app() (binding each to the field of the core struct
// that holds its default, with ->capture_default_str(), or ->default_str("text") when the
// default depends on something known later, such as the task), then calls parse().

#include <CLI/CLI.hpp>
#include <string>

#include "cli/key_value_args.h"
#include "cli/usage_error.h"

namespace prunelab::cli {

class CommandLine {
 public:
  // `command`: "prune"; its one-line summary comes from the command table (commands.h).
  // `synopsis`: what follows "prunelab-cli prune " in the usage line.
  CommandLine(const std::string& command, const std::string& synopsis);

  CLI::App& app() { return m_app; }
  // Text after the options in --help (train: the recipe table).
  void footer(const std::string& text) { m_app.footer(text); }
  std::string help() const { return m_app.help(); }

  // Parses argv[first..argc) (argv[1] is the command): key=value words are rewritten
  // first (cli/key_value_args.h). Returns false when -h/--help printed the help, and the
  // command then exits 0. Throws UsageError for what CLI11 rejects (unknown option,
  // missing value, a value that does not convert, a missing required option), with
  // CLI11's message, which names the option.
  bool parse(int argc, char** argv, int first = 2);

  // Was the option (any of its names) given? For flags, and for options whose default is
  // decided later (the task's recipe) or whose presence selects a mode (--percent).
  bool has(const std::string& name) const { return m_app.count(name) > 0; }

  // The command's long option names and whether each takes a value.
  OptionNames optionNames() const;

 private:
  CLI::App m_app;
};

}  // namespace prunelab::cli
