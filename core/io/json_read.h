#pragma once
// JSON that came from a file. Integers read from it (checkpoint manifests, sensitivity tables,
// run logs, the tags on exported ONNX nodes).
//
// Why not json::get<int64_t>(): nlohmann static_casts a floating-point number to the
// integer type, which is undefined behaviour when the number is out of the type's range
// (fuzz_sensitivity found 4.06e41 given as a MAC count) and silently truncates 2.5 to 2.
// These accept only integers that fit `Int` and otherwise throw nlohmann's own type_error,
// so the callers' existing `catch (const json::exception&)` blocks turn it into their
// "malformed <file>" message as before.

#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <vector>

namespace prunelab {

template <typename Int>
Int jsonInt(const nlohmann::json& j) {
  using Limits = std::numeric_limits<Int>;
  if (j.is_number_unsigned()) {
    const auto v = j.get<nlohmann::json::number_unsigned_t>();
    if (v <= static_cast<nlohmann::json::number_unsigned_t>(Limits::max())) return static_cast<Int>(v);
  } else if (j.is_number_integer()) {
    const auto v = j.get<nlohmann::json::number_integer_t>();
    if (v >= static_cast<nlohmann::json::number_integer_t>(Limits::min()) &&
        v <= static_cast<nlohmann::json::number_integer_t>(Limits::max()))
      return static_cast<Int>(v);
  }
  throw nlohmann::json::type_error::create(
      302, "expected an integer in " + std::to_string(Limits::min()) + ".." + std::to_string(Limits::max()) +
               ", got " + j.dump().substr(0, 40),
      nullptr);
}

template <typename Int>
std::vector<Int> jsonInts(const nlohmann::json& j) {
  if (!j.is_array()) throw nlohmann::json::type_error::create(302, "expected an array of integers", nullptr);
  std::vector<Int> out;
  out.reserve(j.size());
  for (const auto& v : j) out.push_back(jsonInt<Int>(v));
  return out;
}

// A PruneLab JSON document (sensitivity table, latency table) read from `path`: it must
// open, parse, be an object and carry "format": `format`; otherwise prunelab::Error naming
// the file, with `what` ("a latency table (prunelab-cli latency-table --out)") saying what
// was expected.
nlohmann::json readJsonDocument(const std::string& path, const std::string& format, const std::string& what);

// `j[key]` as an integer, or `fallback` when the key is absent.
template <typename Int>
Int jsonIntOr(const nlohmann::json& j, const char* key, Int fallback) {
  const auto it = j.find(key);
  return it == j.end() ? fallback : jsonInt<Int>(*it);
}

}  // namespace prunelab
