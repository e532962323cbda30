#pragma once
// Typed node attributes (stride, padding, axis, split sizes...). Small, copyable,
// ordered by name so that serialization is deterministic.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace prunelab {

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>>;

class Attributes {
 public:
  Attributes() = default;
  Attributes(std::initializer_list<std::pair<const std::string, AttrValue>> init) : m_values(init) {}

  bool has(const std::string& name) const { return m_values.count(name) != 0; }
  void set(const std::string& name, AttrValue v) { m_values[name] = std::move(v); }

  // Typed getters; the ones without a fallback throw prunelab::Error when the
  // attribute is missing or has another type.
  int64_t getInt(const std::string& name) const;
  int64_t getInt(const std::string& name, int64_t fallback) const;
  double getFloat(const std::string& name) const;
  double getFloat(const std::string& name, double fallback) const;
  const std::string& getString(const std::string& name) const;
  const std::vector<int64_t>& getInts(const std::string& name) const;
  std::vector<int64_t> getInts(const std::string& name, std::vector<int64_t> fallback) const;

  const std::map<std::string, AttrValue>& values() const { return m_values; }
  bool operator==(const Attributes& o) const { return m_values == o.m_values; }

 private:
  std::map<std::string, AttrValue> m_values;
};

}  // namespace prunelab
