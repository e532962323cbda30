#include "util/error.h"

#include <c10/util/Exception.h>

namespace prunelab {

namespace {
std::string firstLine(const std::string& s) {
  const auto pos = s.find('\n');
  return pos == std::string::npos ? s : s.substr(0, pos);
}
}  // namespace

void rethrowAsError(const std::string& subject) {
  try {
    throw;
  } catch (const Error& e) {
    if (e.subject().empty() || e.subject() == subject) throw Error(subject, e.reason());
    throw Error(subject, e.what());
  } catch (const c10::Error& e) {
    throw Error(subject, firstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Error(subject, e.what());
  }
}

}  // namespace prunelab
