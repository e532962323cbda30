#pragma once
// Scope patterns for freezing, per-group learning rates and sparsity exclusion.
// A pattern list is comma-separated; each pattern is a glob (fnmatch: *, ?, [...])
// matched against the scope, or a plain scope that also matches everything below it
// ("layer2.0" matches "layer2.0.conv1" but not "layer2.01").

#include <string>
#include <vector>

namespace prunelab {

std::vector<std::string> splitPatterns(const std::string& commaSeparated);
bool scopeMatches(const std::string& scope, const std::string& pattern);
bool scopeMatchesAny(const std::string& scope, const std::vector<std::string>& patterns);

}  // namespace prunelab
