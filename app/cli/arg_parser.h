#pragma once
// A small command-line option parser for prunelab-cli subcommands: declared options
// only (an unknown or misspelt option is an error, not silently ignored).

#include <map>
#include <string>
#include <vector>

namespace prunelab::cli {

class ArgParser {
 public:
  // `takesValue`: "--model NAME" vs a flag like "--json".
  ArgParser& option(const std::string& name, bool takesValue, const std::string& help);
  // Parses argv[first..argc). Throws prunelab::Error on unknown options or missing values.
  void parse(int argc, char** argv, int first);

  bool has(const std::string& name) const { return m_values.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = {}) const;
  // Throws prunelab::Error("--name", "is required") when absent.
  std::string require(const std::string& name) const;
  long long getInt(const std::string& name, long long fallback) const;
  // Throws prunelab::Error("--name", ...) when the value is not a number.
  double getDouble(const std::string& name, double fallback) const;
  std::string help() const;

 private:
  struct Spec {
    bool takesValue;
    std::string help;
  };
  std::vector<std::pair<std::string, Spec>> m_specs;
  std::map<std::string, std::string> m_values;
};

}  // namespace prunelab::cli
