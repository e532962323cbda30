#include "cli/number_text.h"

#include <stdexcept>

#include "cli/usage_error.h"
#include "util/parse_number.h"

namespace prunelab::cli {

int64_t parseCount(const std::string& option, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    const std::string suffix = text.substr(used);
    if (suffix == "K" || suffix == "k") v *= 1e3;
    else if (suffix == "M") v *= 1e6;
    else if (suffix == "G") v *= 1e9;
    else if (!suffix.empty()) throw std::invalid_argument(suffix);
    return static_cast<int64_t>(v);
  } catch (const std::exception&) {
    throw UsageError(option, "expects a count like 18M or 0.5G, got '" + text + "'");
  }
}

double parseFraction(const std::string& option, const std::string& text) {
  std::string number = text;
  const bool percentSign = !number.empty() && number.back() == '%';
  if (percentSign) number.pop_back();
  const std::optional<double> parsed = parseNumber(number);
  if (!parsed) throw UsageError(option, "expects a fraction like 0.4 or a percent like 40%, got '" + text + "'");
  const double v = *parsed;
  if (percentSign) return v / 100.0;
  if (v >= 1.0)
    throw Error(option, "expects a fraction in (0, 1) such as 0.4, or a percent with its sign such as 40%; got " + text);
  return v;
}

}  // namespace prunelab::cli
