#include "cli/arg_parser.h"

#include "util/error.h"

namespace prunelab::cli {

ArgParser& ArgParser::option(const std::string& name, bool takesValue, const std::string& help) {
  m_specs.push_back({name, {takesValue, help}});
  return *this;
}

void ArgParser::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool inlineValue = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inlineValue = true;
    }
    const Spec* spec = nullptr;
    for (const auto& [name, s] : m_specs)
      if (name == arg) spec = &s;
    if (!spec) throw Error(arg, "unknown option (see --help)");
    if (spec->takesValue && !inlineValue) {
      if (i + 1 >= argc) throw Error(arg, "needs a value");
      value = argv[++i];
    }
    m_values[arg] = spec->takesValue ? value : "1";
  }
}

std::string ArgParser::get(const std::string& name, const std::string& fallback) const {
  auto it = m_values.find(name);
  return it == m_values.end() ? fallback : it->second;
}

std::string ArgParser::require(const std::string& name) const {
  if (!has(name)) throw Error(name, "is required (see --help)");
  return get(name);
}

long long ArgParser::getInt(const std::string& name, long long fallback) const {
  if (!has(name)) return fallback;
  try {
    size_t used = 0;
    const long long v = std::stoll(get(name), &used);
    if (used != get(name).size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw Error(name, "expects an integer, got '" + get(name) + "'");
  }
}

double ArgParser::getDouble(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  try {
    size_t used = 0;
    const double v = std::stod(get(name), &used);
    if (used != get(name).size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw Error(name, "expects a number, got '" + get(name) + "'");
  }
}

std::string ArgParser::help() const {
  std::string s;
  for (const auto& [name, spec] : m_specs) {
    std::string left = "  " + name + (spec.takesValue ? " VALUE" : "");
    left.resize(std::max<size_t>(left.size() + 2, 26), ' ');
    s += left + spec.help + "\n";
  }
  return s;
}

}  // namespace prunelab::cli
