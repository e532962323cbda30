#include "cli/key_value_args.h"

#include <algorithm>

#include "cli/usage_error.h"

namespace prunelab::cli {

namespace {

std::string canonicalName(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// Does `word` (an option word such as "--lr" or "--lr=0.1") leave the next word as its value?
bool takesNextWord(const std::string& word, const OptionNames& options) {
  if (word.rfind("--", 0) != 0 || word.find('=') != std::string::npos) return false;
  const auto it = options.find(canonicalName(word.substr(2)));
  return it != options.end() && it->second;
}

bool flagValue(const std::string& name, const std::string& value) {
  static const char* const yes[] = {"true", "True", "TRUE", "yes", "1"};
  static const char* const no[] = {"false", "False", "FALSE", "no", "0"};
  for (const char* y : yes)
    if (value == y) return true;
  for (const char* n : no)
    if (value == n) return false;
  throw UsageError("--" + name, "is a flag: " + name + "=true or " + name + "=false, got '" + value + "'");
}

}  // namespace

std::vector<std::string> rewriteKeyValueArgs(const std::vector<std::string>& args, const OptionNames& options) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool valueNext = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {  // the rest is positional, whatever it looks like
      out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    const bool isValue = valueNext;
    valueNext = takesNextWord(word, options);
    const auto eq = word.find('=');
    if (isValue || word.empty() || word[0] == '-' || eq == std::string::npos || eq == 0) {
      out.push_back(word);
      continue;
    }
    const std::string name = canonicalName(word.substr(0, eq));
    const auto it = options.find(name);
    if (it == options.end()) {
      out.push_back(word);
      continue;
    }
    const std::string value = word.substr(eq + 1);
    if (it->second) out.push_back("--" + name + "=" + value);
    else if (flagValue(name, value)) out.push_back("--" + name);
  }
  return out;
}

}  // namespace prunelab::cli
