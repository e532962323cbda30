#include "cli/command_line.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <vector>

#include "cli/commands.h"

namespace prunelab::cli {

namespace {

// CLI11's formatter with a usage line of our own and each default in the description,
// "(default: 1)", where it reads better than CLI11's "INT=1" (and where it is a phrase
// such as "task recipe").
class HelpFormatter : public CLI::Formatter {
 public:
  explicit HelpFormatter(std::string usage) : m_usage(std::move(usage)) { column_width(32); }

  std::string make_usage(const CLI::App*, std::string) const override { return "usage: " + m_usage + "\n"; }

  std::string make_option_opts(const CLI::Option* opt) const override {
    std::string s;
    if (opt->get_type_size() != 0 && !opt->get_type_name().empty()) s += " " + opt->get_type_name();
    if (opt->get_required() && !opt->get_positional()) s += " (required)";
    return s;
  }

  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string s = opt->get_description();
    if (opt->get_type_size() != 0 && !opt->get_default_str().empty()) s += " (default: " + opt->get_default_str() + ")";
    return s;
  }

 private:
  std::string m_usage;
};

}  // namespace

CommandLine::CommandLine(const std::string& command, const std::string& synopsis)
    : m_app(commandSummary(command), "prunelab-cli " + command) {
  m_app.formatter(std::make_shared<HelpFormatter>("prunelab-cli " + command + " " + synopsis));
  // The last of a repeated option wins, as it did before CLI11 (scripts append overrides).
  m_app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  m_app.set_help_flag("-h,--help", "show this help");
}

OptionNames CommandLine::optionNames() const {
  OptionNames names;
  for (const CLI::Option* opt : m_app.get_options())
    for (const std::string& name : opt->get_lnames()) names[name] = opt->get_type_size() != 0;
  return names;
}

bool CommandLine::parse(int argc, char** argv, int first) {
  std::vector<std::string> words(argv + std::min(first, argc), argv + argc);
  words = rewriteKeyValueArgs(words, optionNames());
  std::reverse(words.begin(), words.end());  // CLI11 takes them last first
  try {
    m_app.parse(words);
  } catch (const CLI::CallForHelp&) {
    std::cout << m_app.help();
    return false;
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  return true;
}

}  // namespace prunelab::cli
