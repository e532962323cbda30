#pragma once
// Option values that are numbers written for people: "18M" for a count, "40%" or 0.4 for a
// fraction. Text that is not such a number throws UsageError (exit code 2) naming the option.

#include <cstdint>
#include <string>

namespace prunelab::cli {

// "2.5G", "800M", "12k", "120000" -> an integer count.
int64_t parseCount(const std::string& option, const std::string& text);

// "0.4" or "40%" -> 0.4. A bare number >= 1 ("40", "1") is ambiguous and throws
// prunelab::Error (a well-formed request that is refused, exit code 1).
double parseFraction(const std::string& option, const std::string& text);

}  // namespace prunelab::cli
