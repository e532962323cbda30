#include "util/parse_number.h"

#include <sstream>

#include <cmath>
#include <stdexcept>

namespace prunelab {

std::optional<double> parseNumber(const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {  // invalid_argument, out_of_range
    return std::nullopt;
  }
}

std::optional<long long> parseInteger(const std::string& text) {
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {  // invalid_argument, out_of_range
    return std::nullopt;
  }
}

std::string numberText(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace prunelab
