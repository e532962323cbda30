#include "io/json_read.h"

#include <fstream>

#include "util/error.h"

namespace prunelab {

nlohmann::json readJsonDocument(const std::string& path, const std::string& format, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("not JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("format", "") != format) throw Error(path, "not " + what);
  return j;
}

}  // namespace prunelab
