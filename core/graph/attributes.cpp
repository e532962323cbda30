#include "graph/attributes.h"

#include "util/error.h"

namespace prunelab {

namespace {
template <typename T>
const T& getTyped(const std::map<std::string, AttrValue>& m, const std::string& name, const char* type) {
  auto it = m.find(name);
  if (it == m.end()) throw Error("attribute '" + name + "'", "missing");
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  throw Error("attribute '" + name + "'", std::string("is not of type ") + type);
}
}  // namespace

int64_t Attributes::getInt(const std::string& name) const { return getTyped<int64_t>(m_values, name, "int"); }
int64_t Attributes::getInt(const std::string& name, int64_t fallback) const {
  return has(name) ? getInt(name) : fallback;
}
double Attributes::getFloat(const std::string& name) const {
  auto it = m_values.find(name);
  if (it != m_values.end())
    if (const int64_t* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return getTyped<double>(m_values, name, "float");
}
double Attributes::getFloat(const std::string& name, double fallback) const {
  return has(name) ? getFloat(name) : fallback;
}
const std::string& Attributes::getString(const std::string& name) const {
  return getTyped<std::string>(m_values, name, "string");
}
const std::vector<int64_t>& Attributes::getInts(const std::string& name) const {
  return getTyped<std::vector<int64_t>>(m_values, name, "int list");
}
std::vector<int64_t> Attributes::getInts(const std::string& name, std::vector<int64_t> fallback) const {
  return has(name) ? getInts(name) : fallback;
}

}  // namespace prunelab
