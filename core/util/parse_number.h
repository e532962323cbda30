#pragma once
// Whole-text number parsing for user input (label files, option values), and its inverse: "0.5" is 0.5,
// "0.5x", "", "nan" and "inf" are not numbers. std::stod alone accepts a prefix
// ("0.5x" -> 0.5) and non-finite values, which is how bad input used to slip through.

#include <optional>
#include <string>

namespace prunelab {

// The finite number `text` spells in full, or nullopt.
std::optional<double> parseNumber(const std::string& text);

// `v` as a person would type it back (0.001, 128, 1e-05: ostream's shortest default form),
// for messages and the commands PruneLab writes; parseNumber reads it back.
std::string numberText(double v);

// The integer `text` spells in full ("-3", "12"), or nullopt ("1.5", "", "99999999999999999999").
std::optional<long long> parseInteger(const std::string& text);

}  // namespace prunelab
