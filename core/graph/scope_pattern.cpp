#include "graph/scope_pattern.h"

#include <fnmatch.h>

#include <sstream>

namespace prunelab {

std::vector<std::string> splitPatterns(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) r.push_back(part);
  return r;
}

bool scopeMatches(const std::string& scope, const std::string& pattern) {
  if (pattern.find_first_of("*?[") != std::string::npos) return fnmatch(pattern.c_str(), scope.c_str(), 0) == 0;
  return scope == pattern || (scope.size() > pattern.size() && scope.compare(0, pattern.size(), pattern) == 0 &&
                              scope[pattern.size()] == '.');
}

bool scopeMatchesAny(const std::string& scope, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns)
    if (scopeMatches(scope, p)) return true;
  return false;
}

}  // namespace prunelab
