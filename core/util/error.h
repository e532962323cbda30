#pragma once
// Typed errors. Every failure that a user can cause (bad file, bad shape, bad option)
// is reported as prunelab::Error naming *what* (file, node, key) and *why*.
// c10::Error from LibTorch is converted at the boundary with rethrowAsError().

#include <stdexcept>
#include <string>

namespace prunelab {

class Error : public std::runtime_error {
 public:
  // `subject` is what the error is about: a file path, a node name, an option.
  Error(std::string subject, const std::string& reason)
      : std::runtime_error(subject.empty() ? reason : subject + ": " + reason),
        m_subject(std::move(subject)), m_reason(reason) {}
  explicit Error(const std::string& reason) : Error(std::string(), reason) {}

  const std::string& subject() const { return m_subject; }
  const std::string& reason() const { return m_reason; }

 private:
  std::string m_subject;
  std::string m_reason;
};

// Runs `fn`; a c10::Error or std::exception escaping it becomes prunelab::Error
// with `subject`, keeping only the first line of LibTorch's long message.
template <typename Fn>
auto withErrorContext(const std::string& subject, Fn&& fn) -> decltype(fn());

[[noreturn]] void rethrowAsError(const std::string& subject);

}  // namespace prunelab

#include <exception>
namespace prunelab {
template <typename Fn>
auto withErrorContext(const std::string& subject, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    rethrowAsError(subject);
  }
}
}  // namespace prunelab
